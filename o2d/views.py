from django.conf import settings
from django.contrib.auth.views import LoginView
from django.utils.decorators import method_decorator
from django_ratelimit.decorators import ratelimit


@method_decorator(
    ratelimit(key="ip", rate=lambda g, r: settings.O2D_LOGIN_RATE, method="POST", block=False),
    name="post",
)
class ThrottledLoginView(LoginView):
    """The staff login, with a limit on attempts per client address."""

    redirect_authenticated_user = True

    def post(self, request, *args, **kwargs):
        if getattr(request, "limited", False):
            context = self.get_context_data(form=self.get_form(), throttled=True)
            return self.render_to_response(context, status=429)
        return super().post(request, *args, **kwargs)

"""One demo login per role, and the superuser; all share the public demo password."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from orders.roles import Role

DEMO_PASSWORD = "o2d-demo"

USERS = [
    ("sales", "李娜", "", Role.SALES),
    ("warehouse", "王强", "", Role.WAREHOUSE),
    ("checker", "赵敏", "", Role.WAREHOUSE),  # reviews what "warehouse" picked
    ("logistics", "张伟", "", Role.LOGISTICS),
    ("finance", "刘芳", "", Role.FINANCE),
    ("manager", "陈静", "", Role.MANAGER),
]


def users():
    User = get_user_model()
    users = {}
    for username, first, last, role in USERS:
        user, created = User.objects.get_or_create(
            username=username,
            defaults={"first_name": first, "last_name": last, "is_staff": role == Role.MANAGER},
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save()
        user.groups.add(Group.objects.get(name=role))
        users[username] = user
    if not User.objects.filter(username="admin").exists():
        User.objects.create_superuser("admin", "admin@o2d.example", DEMO_PASSWORD)
    return users

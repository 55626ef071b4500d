"""``manage.py unlock_login <username or mobile number>``: lift a django-axes lockout early.

django-axes counts failures under an opaque key (``backends.login_key``), so its own
``axes_reset_username`` needs that key; this command computes it from what the person types.
"""

from __future__ import annotations

from typing import Any

from axes.utils import reset

from django.core.management.base import BaseCommand, CommandParser

from apps.identity.backends import login_key


class Command(BaseCommand):
    help = "解除账号的登录锁定（输入用户名或手机号码）。"

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("account", help="用户名或手机号码")

    def handle(self, *args: Any, **options: Any) -> None:
        count = reset(username=login_key(options["account"]))
        self.stdout.write(f"{count}")

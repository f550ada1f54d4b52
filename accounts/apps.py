from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"

    def ready(self) -> None:
        from django.contrib.auth.signals import user_logged_in

        from accounts.middleware import stamp_login_time

        user_logged_in.connect(stamp_login_time, dispatch_uid="accounts.stamp_login_time")

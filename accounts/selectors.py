from django_otp import user_has_device


def user_has_two_factor(user) -> bool:
    """True once the user has confirmed an authenticator app."""
    return user_has_device(user, confirmed=True)

from django.apps import AppConfig


class PresalesConfig(AppConfig):
    default_auto_field = 'django.db.models.BigAutoField'
    name = 'presales'

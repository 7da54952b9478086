from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "attrition.review"
    label = "review"
    verbose_name = "Review"

from django.shortcuts import render


def moderation_log(request):
    return render(request, "resources/moderation_log.html", {})

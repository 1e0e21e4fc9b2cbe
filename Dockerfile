# The image docker-compose.yml runs for web, workers, beat and Flower (not built here: no
# Docker engine on the machines this was written on). Static files need no collectstatic
# step: whitenoise serves them from the installed apps.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY requirements.txt .
# The hashed lock of the whole tree (`make lock` writes it from requirements.in): the one
# lock every install uses, so the image runs exactly what CI tested.
RUN pip install --require-hashes -r requirements.txt

COPY . .
# Celery warns when run as root, and nothing here needs root.
RUN useradd --create-home --uid 10001 switchboard \
    && mkdir -p /app/var \
    && chown switchboard /app/var
USER switchboard

EXPOSE 8000 5555

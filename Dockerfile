# One image for web and worker (libcairo2: the findings report draws its figures as PNG).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
RUN apt-get update && apt-get install -y --no-install-recommends nodejs npm libcairo2 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY pyproject.toml README.md ./
RUN pip install --no-cache-dir -e .
COPY . .
RUN DJANGO_SECRET_KEY=build DATABASE_URL=sqlite:////tmp/build.db CELERY_BROKER_URL=memory:// \
    DJANGO_SETTINGS_MODULE=coding_app.settings.production python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "coding_app.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--worker-class", "gthread", "--threads", "4"]

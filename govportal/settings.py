"""govportal settings: one module, driven by the environment (STYLE.md C1-C4).

Defaults are the zero-setup demo: a SQLite file and Celery running eagerly in-process.
Setting ``DATABASE_URL`` and ``REDIS_URL`` switches to PostgreSQL and a real broker.
"""

import ipaddress
import logging
from datetime import timedelta
from pathlib import Path

import environ
from celery.schedules import crontab
from csp import constants as csp_constants

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from apps.identity.oidc_keys import demo_private_key, normalise_pem

BASE_DIR = Path(__file__).resolve().parent.parent
env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

# --- Core ---------------------------------------------------------------------------------
DEBUG = env.bool("DEBUG", default=False)
SECRET_KEY = env.str("SECRET_KEY", default="")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "SECRET_KEY must be set when DEBUG is off (make demo sets DEBUG=true for you)."
        )
    SECRET_KEY = "insecure-development-key-do-not-use-in-production"  # noqa: S105

ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "[::1]", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])
SITE_URL = env.str("SITE_URL", default="http://127.0.0.1:8000")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "rest_framework",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "guardian",
    "oauth2_provider",
    "axes",
    "csp",
    "apps.core",
    "apps.audit",
    "apps.identity",
    "apps.catalog",
    "apps.cases",
    "apps.handoffs",
    "apps.notifications",
    "apps.licences",
    "apps.reviews",
    "apps.bundles",
    "apps.marketplace",
]

MIDDLEWARE = [
    # First: request latency by route pattern for /metrics (apps/core/metrics.py).
    "apps.core.metrics.RequestMetricsMiddleware",
    "django.middleware.security.SecurityMiddleware",
    # Content-Security-Policy on every response, error pages included (settings below).
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # 400 for NUL characters and repeated API parameters, before any session or view work.
    "apps.core.middleware.QueryGuardMiddleware",
    # Django's, minus Vary: Cookie on cookieless anonymous pages (issue 15 §1).
    "apps.core.middleware.SessionMiddlewareWithoutAnonymousVary",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "apps.audit.middleware.AuditContextMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "apps.identity.middleware.StaffSessionTimeoutMiddleware",
    # Per-address brake on password logins (apps/identity/throttle.py).
    "apps.identity.throttle.LoginThrottleMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    # django-axes: last, so it turns a locked-out login into the lockout page.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "govportal.urls"
WSGI_APPLICATION = "govportal.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "apps.core.context_processors.portal",
                "apps.notifications.context_processors.unread_messages",
            ],
        },
    },
]

# --- Database -----------------------------------------------------------------------------
# Unset DATABASE_URL: a SQLite file, the zero-setup demo. Tests and production use PostgreSQL.
DATABASES = {
    "default": env.db_url("DATABASE_URL", default=f"sqlite:///{BASE_DIR / 'var' / 'demo.sqlite3'}")
}
DATABASES["default"]["CONN_MAX_AGE"] = env.int("CONN_MAX_AGE", default=60)
DATABASES["default"]["CONN_HEALTH_CHECKS"] = True
DATABASES["default"]["ATOMIC_REQUESTS"] = False  # services own their transactions (STYLE.md S2)
IS_POSTGRES = DATABASES["default"]["ENGINE"].endswith("postgresql")
if DATABASES["default"]["ENGINE"].endswith("sqlite3"):
    # The zero-setup demo: the web server's threads and the department simulators' answers write
    # at the same time. Write-ahead logging lets readers go on while one writes, and IMMEDIATE
    # transactions take the write lock at BEGIN and wait for it (timeout in seconds) instead of
    # failing with "database is locked" when a read transaction tries to start writing.
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL;",
        }
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Auth ---------------------------------------------------------------------------------
AUTH_USER_MODEL = "identity.User"
AUTHENTICATION_BACKENDS = [
    # django-axes first: it refuses a locked-out username before any password is checked.
    "axes.backends.AxesStandaloneBackend",
    # Username or mobile number + password (ModelBackend otherwise).
    "apps.identity.backends.UsernameOrPhoneBackend",
    "guardian.backends.ObjectPermissionBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "identity:login"
LOGIN_REDIRECT_URL = "identity:profile"
LOGOUT_REDIRECT_URL = "/"
# Login failures (django-axes, database handler): after LOGIN_FAILURE_LIMIT failures for one
# account (username, or the account a phone number belongs to) further attempts are refused
# with the lockout page until LOGIN_COOLOFF_MINUTES have passed; a success resets the count.
# Locking by account rather than by IP: a hall's clients share one NAT address.
AXES_FAILURE_LIMIT = env.int("LOGIN_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = timedelta(minutes=env.int("LOGIN_COOLOFF_MINUTES", default=15))
AXES_LOCKOUT_PARAMETERS = ["username"]
# axes.W006 wants 'ip_address' in the parameters; an account lock cannot be bypassed by rotating
# user agents or cookies, and an axes IP lock would shut a whole service hall out. Instead
# apps/identity/throttle.py brakes password spraying per address: after LOGIN_IP_FAILURE_LIMIT
# failed logins (any accounts) within a LOGIN_IP_WINDOW_MINUTES window, login POSTs from that
# address get the 429 page until the window ends (0 disables it).
SILENCED_SYSTEM_CHECKS = ["axes.W006"]
LOGIN_IP_FAILURE_LIMIT = env.int("LOGIN_IP_FAILURE_LIMIT", default=50)
LOGIN_IP_WINDOW_MINUTES = env.int("LOGIN_IP_WINDOW_MINUTES", default=10)
AXES_USERNAME_CALLABLE = "apps.identity.backends.axes_username"
AXES_LOCKOUT_CALLABLE = "apps.identity.views.lockout_response"
AXES_RESET_ON_SUCCESS = True
# The typed username may be a mobile or ID number: axes stores a keyed hash of the account
# instead (apps.identity.backends.login_key) and masks the typed value in post_data.
AXES_SENSITIVE_PARAMETERS = ["password", "username"]
AXES_VERBOSE = False
# Staff (an active StaffMembership, or is_staff) are signed out after this many idle minutes;
# citizens keep SESSION_COOKIE_AGE.
STAFF_SESSION_IDLE_MINUTES = env.int("STAFF_SESSION_IDLE_MINUTES", default=30)
# Registration SMS codes: 6 digits, hashed at rest, valid PHONE_CODE_TTL_SECONDS, at most
# PHONE_CODE_MAX_ATTEMPTS wrong entries; resend after PHONE_CODE_RESEND_SECONDS and at most
# PHONE_CODE_MAX_PER_HOUR per phone number.
PHONE_CODE_TTL_SECONDS = env.int("PHONE_CODE_TTL_SECONDS", default=300)
PHONE_CODE_MAX_ATTEMPTS = env.int("PHONE_CODE_MAX_ATTEMPTS", default=5)
PHONE_CODE_RESEND_SECONDS = env.int("PHONE_CODE_RESEND_SECONDS", default=60)
PHONE_CODE_MAX_PER_HOUR = env.int("PHONE_CODE_MAX_PER_HOUR", default=5)
# 忘记密码: code requests per client address and hour, whatever numbers they name (0: off).
PASSWORD_RESET_IP_LIMIT = env.int("PASSWORD_RESET_IP_LIMIT", default=30)
# Service codes (一人一码/一企一码, DOMAIN.md §4.5: 60 s - 5 min): seconds a shown code is valid.
SERVICE_CODE_TTL_SECONDS = env.int("SERVICE_CODE_TTL_SECONDS", default=120)
# A clerk who identified a person by service code may reveal their full ID number (audited)
# for this many minutes: the person is at their window.
SERVICE_CODE_REVEAL_MINUTES = env.int("SERVICE_CODE_REVEAL_MINUTES", default=30)
ANONYMOUS_USER_NAME = None  # guardian: no anonymous user row

# --- Identity: personal data --------------------------------------------------------------
# PII_KEYS: Fernet keys, comma-separated; the first encrypts, all decrypt. Rotate by putting a
# new key first and running ``manage.py rotate_pii_keys``; then drop the old key.
# PII_INDEX_KEY: HMAC key of the blind indexes (exact lookup of ID and phone numbers) and of
# the pairwise OIDC subjects. It cannot be rotated without re-indexing, so keep it stable.
PII_KEYS = env.list("PII_KEYS", default=[])
PII_INDEX_KEY = env.str("PII_INDEX_KEY", default="")
if not PII_KEYS or not PII_INDEX_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("PII_KEYS and PII_INDEX_KEY must be set when DEBUG is off.")
    PII_KEYS = PII_KEYS or ["VKOHrI_xhVCYjXXnTXKYqbyqOfpCXrqNQ7kThRXRfNQ="]
    PII_INDEX_KEY = PII_INDEX_KEY or "insecure-development-index-key-do-not-use"
# L3 real-person verification provider (apps/identity/verification.py): the development
# stand-in checks name + ID + phone against the registries and the card's Luhn digit; production
# names a live-face / 网证 / bank four-factor client class.
IDENTITY_L3_BACKEND = env.str(
    "IDENTITY_L3_BACKEND", default="apps.identity.verification.DevelopmentBankCardBackend"
)
# Failed L3 checks allowed per person per day (each may cost a provider call).
IDENTITY_L3_DAILY_ATTEMPTS = env.int("IDENTITY_L3_DAILY_ATTEMPTS", default=5)
# Agent (经办人) authorisations: default and longest validity (DOMAIN.md §4.3; 30 days is one
# guide's default, ○ configurable).
AGENT_AUTHORISATION_DEFAULT_DAYS = env.int("AGENT_AUTHORISATION_DEFAULT_DAYS", default=30)
AGENT_AUTHORISATION_MAX_DAYS = env.int("AGENT_AUTHORISATION_MAX_DAYS", default=366)

# --- OAuth2 / OIDC (django-oauth-toolkit) -------------------------------------------------
# OIDC_ENABLED: the SSO provider for department systems (docs/sso.md). Its RS256 signing key
# comes from OIDC_RSA_PRIVATE_KEY (PEM; "\n" escapes accepted); the demo (DEBUG) generates one
# under var/ on first start; production refuses to start without it.
OIDC_ENABLED = env.bool("OIDC_ENABLED", default=True)
OIDC_RSA_PRIVATE_KEY = normalise_pem(env.str("OIDC_RSA_PRIVATE_KEY", default=""))
if OIDC_ENABLED and not OIDC_RSA_PRIVATE_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("OIDC_RSA_PRIVATE_KEY must be set when OIDC_ENABLED is on.")
    OIDC_RSA_PRIVATE_KEY = demo_private_key(BASE_DIR / "var" / "oidc-demo-signing-key.pem")
OAUTH2_PROVIDER_APPLICATION_MODEL = "oauth2_provider.Application"
OAUTH2_PROVIDER_ACCESS_TOKEN_MODEL = "oauth2_provider.AccessToken"  # noqa: S105 - a model name
OAUTH2_PROVIDER_GRANT_MODEL = "oauth2_provider.Grant"
OAUTH2_PROVIDER = {
    "SCOPES": {
        "openid": "OpenID Connect 登录",
        "profile": "基本信息（姓名、实名等级、用户类型）",
        "phone": "手机号码",
        "idcard": "完整身份证号码（仅限履行法定职责所必需）",
        "enterprise": "代表企业办事的身份（企业名称、统一社会信用代码、授权范围）",
        "staff": "工作人员身份（在本系统所属部门的岗位）",
        "staff:read": "读取本部门工作人员",
        "catalog:read": "读取事项",
        "catalog:write": "维护本部门事项",
        "cases:read": "读取本部门办件",
        "cases:write": "办理本部门办件",
        "cases:pii": "读取办件申请表中的个人信息原文",
        "handoffs": "拉取并确认交接",
        "licences:read": "核验与读取电子证照",
        "licences:write": "签发、变更、注销电子证照",
        "reviews": "读取并答复好差评",
    },
    "DEFAULT_SCOPES": ["openid"],
    "SCOPES_BACKEND_CLASS": "apps.identity.scopes.DepartmentClientScopes",
    "ACCESS_TOKEN_EXPIRE_SECONDS": env.int("OAUTH2_ACCESS_TOKEN_SECONDS", default=3600),
    "PKCE_REQUIRED": True,
    # OIDC (apps/identity/oidc.py): authorization code + PKCE only, pairwise subjects, claims
    # and acr from the validator. The issuer is the site root (discovery at
    # /.well-known/openid-configuration); OIDC_ISSUER pins it behind a proxy.
    "OIDC_ENABLED": OIDC_ENABLED,
    "OIDC_RSA_PRIVATE_KEY": OIDC_RSA_PRIVATE_KEY,
    "OIDC_ISS_ENDPOINT": env.str("OIDC_ISSUER", default=""),
    "OIDC_RESPONSE_TYPES_SUPPORTED": ["code"],
    "OIDC_SUBJECT_TYPES_SUPPORTED": ["pairwise"],
    "OAUTH2_VALIDATOR_CLASS": "apps.identity.oidc.GovportalOAuth2Validator",
    "ID_TOKEN_EXPIRE_SECONDS": env.int("OIDC_ID_TOKEN_SECONDS", default=600),
    # RFC 9700 (OAuth 2.0 Security BCP): every behaviour gate of django-oauth-toolkit is on (no
    # implicit or password grant, S256 PKCE only, bearer tokens never in the query string,
    # ``iss`` in authorization responses, tokens stored hashed, refresh-token replay revokes the
    # family), and so are the three configuration gates, which make ``check --deploy`` fail
    # rather than warn if PKCE stops being required, redirect URIs allow wildcards, or plain
    # http redirect URIs are allowed (only the DEBUG demo allows http, for its loopback client).
    "COMPLIANT_BCP_RFC9700_IMPLICIT_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PASSWORD_GRANT": True,
    "COMPLIANT_BCP_RFC9700_PKCE_METHOD": True,
    "COMPLIANT_BCP_RFC9700_ACCESS_TOKEN_TRANSPORT": True,
    "COMPLIANT_BCP_RFC9700_AUTHZ_RESPONSE_ISS": True,
    "COMPLIANT_BCP_RFC9700_TOKEN_STORAGE": True,
    "COMPLIANT_BCP_RFC9700_REFRESH_TOKEN": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_SCHEME": True,
    "COMPLIANT_BCP_RFC9700_REDIRECT_URI_MATCHING": True,
    "COMPLIANT_BCP_RFC9700_PKCE_REQUIRED": True,
    "REFRESH_TOKEN_REUSE_PROTECTION": True,
    # Plain-http redirect URIs only where explicitly allowed (the demo's loopback client);
    # production accepts https only.
    "ALLOWED_REDIRECT_URI_SCHEMES": env.list(
        "OAUTH2_REDIRECT_SCHEMES", default=["http", "https"] if DEBUG else ["https"]
    ),
}

# --- Notifications ------------------------------------------------------------------------
# SMS gateway: console (prints, development), locmem (tests' outbox) or a real gateway class.
SMS_BACKEND = env.str("SMS_BACKEND", default="apps.notifications.sms.ConsoleSmsBackend")
# DemoSmsBackend's file (make demo: var/demo-sms.log); empty: it prints everything instead.
SMS_LOG_FILE = env.str("SMS_LOG_FILE", default="")

# --- Internationalisation -----------------------------------------------------------------
LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("简体中文")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

# --- Static and media files ----------------------------------------------------------------
STATIC_URL = "/static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = env.path("STATIC_ROOT", default=BASE_DIR / "var" / "static")
# Uploaded case materials live outside the web root and are served only through views that
# check access; there is deliberately no MEDIA_URL route.
MEDIA_ROOT = env.path("MEDIA_ROOT", default=BASE_DIR / "var" / "media")
MEDIA_URL = "/media-not-served/"
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if env.bool("STATIC_MANIFEST", default=not DEBUG)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)

# --- Redis, cache, Celery -----------------------------------------------------------------
REDIS_URL = env.str("REDIS_URL", default="")
if REDIS_URL:
    CACHES = {
        "default": {
            "BACKEND": "apps.core.cache.RedisCache",
            "LOCATION": REDIS_URL,
            "KEY_PREFIX": env.str("CACHE_KEY_PREFIX", default="govportal"),
            "OPTIONS": {"socket_connect_timeout": 2, "socket_timeout": 2},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

CELERY_BROKER_URL = REDIS_URL or "memory://localhost/"
CELERY_TASK_ALWAYS_EAGER = env.bool("CELERY_TASK_ALWAYS_EAGER", default=not REDIS_URL)
CELERY_TASK_EAGER_PROPAGATES = True
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_SERIALIZER = "json"
CELERY_RESULT_SERIALIZER = "json"
CELERY_ACCEPT_CONTENT = ["json"]
CELERY_TASK_IGNORE_RESULT = True
CELERY_TASK_SOFT_TIME_LIMIT = env.int("CELERY_TASK_SOFT_TIME_LIMIT", default=60)
CELERY_TASK_TIME_LIMIT = env.int("CELERY_TASK_TIME_LIMIT", default=90)
CELERY_TIMEZONE = TIME_ZONE
# Redis redelivers an unacknowledged message after the visibility timeout. With acks_late a
# task that is still running when the timeout passes would run twice, so the timeout must be
# longer than the longest task (hard limit 90 s). Ten minutes bounds how long a message lost
# with a killed worker waits before Redis hands it out again; the outbox sweeper catches
# anything older sooner. See docs/architecture.md "Delivery guarantees".
CELERY_BROKER_TRANSPORT_OPTIONS = {
    "visibility_timeout": env.int("CELERY_VISIBILITY_TIMEOUT", default=600),
    "socket_connect_timeout": 3,
    # A connected but unresponsive Redis must not hang a publish (e.g. the on-commit publish
    # of a handoff in a web request): give up after 5 s; the sweeper re-publishes later.
    "socket_timeout": 5,
}
CELERY_BROKER_CONNECTION_RETRY_ON_STARTUP = True
CELERY_BEAT_SCHEDULE = {
    # Every night at 00:20: e-licences past their term become 已过期 (idempotent, issue 11).
    "licences-expire": {"task": "licences.expire", "schedule": crontab(minute=20, hour=0)},
    # Every morning at 08:30: notices to holders of licences ending within
    # LICENCE_EXPIRY_REMINDER_DAYS (idempotent per licence and threshold, issue 11).
    "licences-remind-expiry": {
        "task": "licences.remind_expiry",
        "schedule": crontab(minute=30, hour=8),
    },
    # Every night at 02:10: re-check bound enterprises against the legal-person registry; a new
    # legal representative there ends the old one's role and voids the authorisations and
    # licence administrators granted under them (docs/permissions.md). Idempotent.
    "identity-recheck-legal-representatives": {
        "task": "identity.recheck_legal_representatives",
        "schedule": crontab(minute=10, hour=2),
    },
    # Every night at 01:30: make sure the working-day calendar holds the known State Council
    # arrangements (idempotent) and log loudly when the coming year is still unknown.
    "core-check-calendar": {
        "task": "core.check_calendar",
        "schedule": crontab(minute=30, hour=1),
    },
    # Every HANDOFF_SWEEP_INTERVAL_SECONDS (60 s): re-enqueue handoffs whose task was lost when a
    # worker died or Redis restarted (docs/handoffs.md). Cheap: two indexed queries when idle.
    "handoffs-sweep": {
        "task": "handoffs.sweep",
        "schedule": env.float("HANDOFF_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
    # Every 10 minutes: 行政许可法 Art. 32 — cases received more than 5 working days ago without
    # a supplement notice count as accepted from receipt; expired supplement periods close.
    # Idempotent (row locks + state checks), so overlapping runs are harmless.
    "cases-apply-deadlines": {
        "task": "cases.apply_deadlines",
        "schedule": crontab(minute="*/10"),
    },
    # Every 15 minutes: SLA warnings (yellow / red), one per (case, level).
    "cases-raise-sla-warnings": {
        "task": "cases.raise_sla_warnings",
        "schedule": crontab(minute="5-59/15"),
    },
    # Hourly at :20: completed cases get their rating record; services unrated for
    # REVIEWS_DEFAULT_AFTER_DAYS become 基本满意 "system default". Idempotent (row locks).
    "reviews-apply-defaults": {"task": "reviews.apply_defaults", "schedule": crontab(minute=20)},
    # Hourly at :40: 督办 of bad-review tickets past their call-back or rectification deadline.
    "reviews-escalate": {"task": "reviews.escalate_overdue", "schedule": crontab(minute=40)},
    # Hourly at :50: rectified tickets whose rater did not answer within the feedback window
    # (REVIEWS_FEEDBACK_DAYS / ReviewPolicy.feedback_days) close, audited. Idempotent.
    "reviews-close-unanswered": {
        "task": "reviews.close_unanswered",
        "schedule": crontab(minute=50),
    },
    # Every BUNDLE_SWEEP_INTERVAL_SECONDS (60 s): re-enqueue the orchestration of bundle
    # applications with work it has not seen (a lost task, an expired claim). Idempotent.
    "bundles-sweep": {
        "task": "bundles.sweep",
        "schedule": env.float("BUNDLE_SWEEP_INTERVAL_SECONDS", default=60.0),
    },
    # Every minute: 中介超市 registration windows close and draws / bidding results run at the
    # announced time with no human step; per-project tasks are idempotent (row locks).
    "marketplace-dispatch-due": {
        "task": "marketplace.dispatch_due",
        "schedule": env.float("MARKETPLACE_DISPATCH_INTERVAL_SECONDS", default=60.0),
    },
    # Every 10 minutes: agencies whose 公示 has ended enter the directory.
    "marketplace-end-publicity": {
        "task": "marketplace.end_agency_publicity",
        "schedule": crontab(minute="*/10"),
    },
    # Every night at 00:40: expired qualifications suspend the services that need them; notices
    # go out MARKETPLACE_EXPIRY_NOTICE_DAYS ahead.
    "marketplace-qualification-expiry": {
        "task": "marketplace.suspend_expired_qualifications",
        "schedule": crontab(minute=40, hour=0),
    },
    # Every night at 00:50: sanctions whose period has ended are lifted (a suspended agency
    # returns to the directory), audited.
    "marketplace-lift-ended-sanctions": {
        "task": "marketplace.lift_ended_sanctions",
        "schedule": crontab(minute=50, hour=0),
    },
}
# How long a worker's claim on a bundle child (creating and submitting its case) lasts before
# another run may take it over (apps.bundles.services.orchestration; a killed worker's claim).
BUNDLE_CLAIM_LEASE_SECONDS = env.int("BUNDLE_CLAIM_LEASE_SECONDS", default=300)
# The sweeper leaves alone applications touched more recently than this (their task is likely
# still queued).
BUNDLE_SWEEP_STALE_SECONDS = env.int("BUNDLE_SWEEP_STALE_SECONDS", default=120)

# --- 中介超市 (marketplace, DOMAIN.md §6; local rules ○, configurable) ---------------------------
MARKETPLACE_PUBLICITY_DAYS = env.int("MARKETPLACE_PUBLICITY_DAYS", default=5)  # 入驻公示, days
MARKETPLACE_EXPIRY_NOTICE_DAYS = env.int("MARKETPLACE_EXPIRY_NOTICE_DAYS", default=30)
# 直接选取 allowed only at or below this budget (yuan), with the reason recorded.
MARKETPLACE_DIRECT_SELECTION_LIMIT = env.int("MARKETPLACE_DIRECT_SELECTION_LIMIT", default=50000)
# The winner signs within this many days of the award; refusing is recorded as misconduct.
MARKETPLACE_CONTRACT_SIGN_DAYS = env.int("MARKETPLACE_CONTRACT_SIGN_DAYS", default=10)
# Credit score weights (DOMAIN.md §6.2 8: supervisor 70, government credit 10, social 20).
MARKETPLACE_CREDIT_WEIGHTS = {
    "supervisor": env.int("MARKETPLACE_CREDIT_WEIGHT_SUPERVISOR", default=70),
    "credit": env.int("MARKETPLACE_CREDIT_WEIGHT_CREDIT", default=10),
    "social": env.int("MARKETPLACE_CREDIT_WEIGHT_SOCIAL", default=20),
}

# --- 好差评 (reviews, DOMAIN.md §2; defaults ○, per region in ReviewPolicy) ---------------------
REVIEWS_DEFAULT_AFTER_DAYS = env.int("REVIEWS_DEFAULT_AFTER_DAYS", default=7)  # natural days
REVIEWS_DEFAULT_GRADE = env.str("REVIEWS_DEFAULT_GRADE", default="basically_satisfied")
REVIEWS_CALLBACK_DAYS = env.int("REVIEWS_CALLBACK_DAYS", default=1)  # working days
REVIEWS_RECTIFY_DAYS = env.int("REVIEWS_RECTIFY_DAYS", default=15)  # working days
REVIEWS_APPEAL_DAYS = env.int("REVIEWS_APPEAL_DAYS", default=3)  # working days
# A rectified ticket whose rater has not answered within this many natural days is closed by
# the beat task reviews.close_unanswered (audited; the ticket is marked as closed unanswered).
REVIEWS_FEEDBACK_DAYS = env.int("REVIEWS_FEEDBACK_DAYS", default=7)  # natural days
# Earlier case nodes the applicant may rate while the case is at them (besides 办结, always
# rateable): values of apps.reviews.constants.ReviewNode, e.g. "accepted,not_accepted". None by
# default; a region's ReviewPolicy overrides.
REVIEWS_RATEABLE_NODES = env.list("REVIEWS_RATEABLE_NODES", default=[])
# Evidence files of one appeal: at most this many, each checked like a case material
# (CASES_UPLOAD_TYPES sniffed from the content, CASES_UPLOAD_MAX_BYTES each).
REVIEWS_APPEAL_MAX_FILES = env.int("REVIEWS_APPEAL_MAX_FILES", default=5)
# How long a pad/QR rating link stays valid (it is single-use in any case): the default window.
# The national 好差评 system as a department (USCC) for the push through the handoff outbox;
# empty: no push. Channel code table "national" or "zhejiang"; dataSource = province code.
REVIEWS_NATIONAL_TARGET_USCC = env.str("REVIEWS_NATIONAL_TARGET_USCC", default="")
REVIEWS_CHANNEL_VARIANT = env.str("REVIEWS_CHANNEL_VARIANT", default="national")
REVIEWS_DATA_SOURCE = env.str("REVIEWS_DATA_SOURCE", default="136")
REVIEWS_PAD_TOKEN_MAX_AGE = env.int("REVIEWS_PAD_TOKEN_MAX_AGE", default=7 * 24 * 3600)

# --- REST API -----------------------------------------------------------------------------
REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # Department clients' client-credentials tokens only: a token a person granted to a
        # relying party (SSO) is good for userinfo, never for the API.
        "apps.identity.authentication.ClientCredentialsAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticated"],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    "DEFAULT_PAGINATION_CLASS": "apps.core.drf.DefaultCursorPagination",
    "PAGE_SIZE": 20,
    # drf-spectacular's AutoSchema plus the error responses every endpoint gives (issue 15 §2).
    "DEFAULT_SCHEMA_CLASS": "apps.core.schema.GovportalAutoSchema",
    "EXCEPTION_HANDLER": "apps.core.drf.exception_handler",
    "DEFAULT_THROTTLE_RATES": {"anon": "120/min", "user": "600/min"},
}
SPECTACULAR_SETTINGS = {
    "TITLE": "govportal API",
    "DESCRIPTION": "一体化政务服务平台接口：事项、办件、交接、电子证照、好差评。",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    "SCHEMA_PATH_PREFIX": "/api/v1",
}

# --- Metrics (Prometheus, apps/core/metrics.py, docs/deploy.md "Alerts") --------------------
# /metrics answers a scraper from one of these networks (CIDR) or one that sends
# "Authorization: Bearer $METRICS_TOKEN"; everyone else gets 404 (403 for a wrong token).
# Empty by default: behind a reverse proxy on the same host every request comes from
# 127.0.0.1, so allowing loopback would open /metrics to the internet.
# Parsed here so that a typo stops the start instead of failing every scrape.
METRICS_ALLOWED_NETWORKS = [
    str(ipaddress.ip_network(network, strict=False))
    for network in env.list("METRICS_ALLOWED_NETWORKS", default=[])
]
METRICS_TOKEN = env.str("METRICS_TOKEN", default="")
# Celery queues whose depth (Redis list length) is exported.
METRICS_CELERY_QUEUES = env.list("METRICS_CELERY_QUEUES", default=["celery"])

# --- Security -----------------------------------------------------------------------------
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_AGE = env.int("SESSION_COOKIE_AGE", default=8 * 3600)
# With Redis, a signed-in request reads its session from the cache (written through to the
# database, which stays the record): one query less on every signed-in page.
SESSION_ENGINE = env.str(
    "SESSION_ENGINE",
    default="django.contrib.sessions.backends.cached_db"
    if REDIS_URL
    else "django.contrib.sessions.backends.db",
)
SESSION_COOKIE_SECURE = env.bool("SECURE_COOKIES", default=not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=False)
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=0)
SECURE_HSTS_INCLUDE_SUBDOMAINS = SECURE_HSTS_SECONDS > 0
SECURE_HSTS_PRELOAD = SECURE_HSTS_SECONDS > 0
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"

# Content-Security-Policy (django-csp): scripts, styles, images and fonts only from this origin;
# no inline <script>, no on…= handlers, no <style> and no style="" (JavaScript lives in
# static/js, CSS in static/css). Nothing is loaded from a CDN, so nothing else is allowed.
# `data:` images: the service-code QR and browser-native form icons. Views that embed a
# third-party UI relax their own policy with csp.decorators (the API docs in govportal/urls.py).
CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": [csp_constants.SELF],
        "script-src": [csp_constants.SELF],
        "style-src": [csp_constants.SELF],
        "img-src": [csp_constants.SELF, "data:"],
        "font-src": [csp_constants.SELF],
        "connect-src": [csp_constants.SELF],
        "object-src": [csp_constants.NONE],
        "base-uri": [csp_constants.SELF],
        "frame-ancestors": [csp_constants.NONE],
    },
}

# --- Handoffs (outbox delivery to departments, docs/handoffs.md) ---------------------------
# Backoff after failed attempt n: min(cap, base * 2^(n-1)), half fixed and half jitter. The cap
# stays below the Redis visibility timeout so a countdown task is never redelivered early.
HANDOFF_RETRY_BASE_SECONDS = env.float("HANDOFF_RETRY_BASE_SECONDS", default=5.0)
HANDOFF_RETRY_CAP_SECONDS = env.float("HANDOFF_RETRY_CAP_SECONDS", default=300.0)
HANDOFF_MAX_ATTEMPTS = env.int("HANDOFF_MAX_ATTEMPTS", default=10)
HANDOFF_CONNECT_TIMEOUT_SECONDS = env.float("HANDOFF_CONNECT_TIMEOUT_SECONDS", default=3.0)
# A pending row overdue this long with no enqueue in that time: its task was lost; re-enqueue.
HANDOFF_SWEEP_GRACE_SECONDS = env.float("HANDOFF_SWEEP_GRACE_SECONDS", default=120.0)
# A row in ``sending`` this long: its worker died mid-push. Longer than the task hard limit.
HANDOFF_SENDING_STALE_SECONDS = env.float("HANDOFF_SENDING_STALE_SECONDS", default=180.0)

# --- Working-day calendar -----------------------------------------------------------------
# DOMAIN.md §0.1: years before this are not needed; chinese-calendar seeds the years it covers.
CALENDAR_FIRST_YEAR = env.int("CALENDAR_FIRST_YEAR", default=2020)

# --- Cases (办件) ---------------------------------------------------------------------------
# 行政许可法 Art. 32: a supplement notice later than this many working days after receipt is too
# late; the case then counts as accepted from receipt (applied by the beat task below).
CASES_SUPPLEMENT_NOTICE_DAYS = env.int("CASES_SUPPLEMENT_NOTICE_DAYS", default=5)
# 电子监察 warnings (DOMAIN.md §1.6 ○ local practice): yellow at <= N working days left.
CASES_SLA_YELLOW_DAYS = env.int("CASES_SLA_YELLOW_DAYS", default=2)
# ... red when overdue by >= M working days (0: as soon as the deadline has passed).
CASES_SLA_RED_OVERDUE_DAYS = env.int("CASES_SLA_RED_OVERDUE_DAYS", default=0)
# Uploaded materials: private storage outside the web root, size bound, types sniffed.
CASES_UPLOAD_ROOT = env.path("CASES_UPLOAD_ROOT", default=Path(MEDIA_ROOT) / "cases")
CASES_UPLOAD_MAX_BYTES = env.int("CASES_UPLOAD_MAX_BYTES", default=20 * 1024 * 1024)
CASES_UPLOAD_TYPES = {"application/pdf": "pdf", "image/jpeg": "jpg", "image/png": "png"}
# 容缺受理: working days the applicant has to supply a tolerated material (○ local practice).
CASES_TOLERANCE_DAYS = env.int("CASES_TOLERANCE_DAYS", default=10)
# 行政许可法 Art. 42: the head of the agency may extend the decision period by 10 working days.
CASES_MAX_EXTENSION_DAYS = env.int("CASES_MAX_EXTENSION_DAYS", default=10)
# Signed material download links for department systems expire after this many seconds.
CASES_DOWNLOAD_LINK_SECONDS = env.int("CASES_DOWNLOAD_LINK_SECONDS", default=600)

# --- Logging ------------------------------------------------------------------------------
# JSON lines on stderr at LOG_LEVEL. LOG_FILE adds a file with everything from LOG_FILE_LEVEL
# up (``make demo``: warnings on the console, the details in var/demo.log).
LOG_LEVEL = env.str("LOG_LEVEL", default="INFO").upper()
LOG_FILE = env.str("LOG_FILE", default="")
LOG_FILE_LEVEL = env.str("LOG_FILE_LEVEL", default="INFO").upper()
_log_handlers: dict[str, dict[str, object]] = {
    "console": {"class": "logging.StreamHandler", "formatter": "json", "level": LOG_LEVEL}
}
if LOG_FILE:
    _log_handlers["file"] = {
        "class": "logging.handlers.WatchedFileHandler",
        "filename": LOG_FILE,
        "formatter": "json",
        "level": LOG_FILE_LEVEL,
    }
_log_levels = [LOG_LEVEL, LOG_FILE_LEVEL] if LOG_FILE else [LOG_LEVEL]
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"json": {"()": "apps.core.logging.JsonFormatter"}},
    "handlers": _log_handlers,
    "root": {
        "handlers": list(_log_handlers),
        "level": min(_log_levels, key=lambda name: getattr(logging, name, logging.INFO)),
    },
    "loggers": {
        # Django's default config gives "django" a console handler of its own under DEBUG,
        # which printed every 404 twice (plain, then JSON); its records go to the root's.
        "django": {"handlers": [], "propagate": True},
        "django.db.backends": {"level": "WARNING"},
        "jieba": {"level": "WARNING"},
        # fontTools logs every glyph of every PDF subset (licence files) at INFO.
        "fontTools": {"level": "WARNING"},
        # django-axes logs every login at INFO; lockouts (WARNING) still show.
        "axes": {"level": "WARNING"},
    },
}

# E-licence seals (DOMAIN.md §3.5): the provider signing with the departments' seal keys (the
# software provider keeps them encrypted in the database; production: an HSM or the provincial
# seal service), the seal maker's SM2 private key (hex; unset: derived from SECRET_KEY, for
# development only), a new seal's validity in years, and the CJK font embedded in licence PDFs
# (unset: WenQuanYi Micro Hei from the paperang-p2-fonts-cjk wheel).
LICENCE_SEAL_PROVIDER = env.str(
    "LICENCE_SEAL_PROVIDER", default="apps.licences.sealing_software.SoftwareSealProvider"
)
LICENCE_SEAL_MAKER_KEY = env.str("LICENCE_SEAL_MAKER_KEY", default="")
LICENCE_SEAL_YEARS = env.int("LICENCE_SEAL_YEARS", default=5)
LICENCE_PDF_FONT = env.str("LICENCE_PDF_FONT", default="")
# A PAdES signature (pyHanko, when installed) over the SM2-sealed licence PDF, for PDF readers.
LICENCE_PADES = env.bool("LICENCE_PADES", default=True)
# Answers of the public verification page per client address per minute (the API has its own
# DRF throttle); the address is only hashed into a one-minute cache key.
LICENCE_VERIFY_PAGE_RATE = env.int("LICENCE_VERIFY_PAGE_RATE", default=30)
# The public verification API (token and file), per client address, DRF rate syntax.
LICENCE_VERIFY_API_RATE = env.str("LICENCE_VERIFY_API_RATE", default="30/min")
# Days ahead of a licence's end on which the holder gets an expiry notice (one per threshold).
LICENCE_EXPIRY_REMINDER_DAYS = env.list("LICENCE_EXPIRY_REMINDER_DAYS", cast=int, default=[30, 7])

# hookgate configuration: the defaults `make run` starts with.
# It works with no environment variables set; `hookgate validate gateway.hcl`
# checks a config and prints every problem as file:line:col.
#
# Functions: env("NAME") is an environment variable ("" when unset or empty),
# env("NAME", "fallback") uses the fallback instead of "". file("path") reads a
# file relative to this file's directory. There are no other variables.
# Durations are Go durations: "100ms", "30s", "10m", "24h".

# HTTP server: the API and token endpoint.
server {
  listen           = "127.0.0.1:8080"
  public_url       = "http://127.0.0.1:8080" # how clients reach this gateway; default "http://" + listen
  body_limit       = 1048576                 # max request body, bytes (1 MiB)
  shutdown_timeout = "30s"                   # on SIGTERM, how long in-flight deliveries may finish
  read_timeout     = "10s"                   # reading one request; stops clients that trickle bytes
  idle_timeout     = "60s"                   # keep-alive connections with no request are closed
  # Reverse proxies in front of the gateway (IPs and CIDRs): only from them is
  # X-Forwarded-For believed, for the address per-address limits count (the
  # right-most hop that is not one of them). Default none: it is ignored.
  # trusted_proxies = ["10.0.0.0/8"]
  # Request bodies read at once before a bearer token vouches for them (the
  # token endpoint, the dashboard's forms); more get 503 until one is done.
  max_unauthenticated_bodies = 64
}

# Local database: webhooks, the delivery queue and delivery logs.
storage {
  # "badger": embedded, one node (the default). "postgres": several replicas
  # share one database (docs/postgres.md); then set dsn as well.
  driver = "badger"
  # dsn  = env("HOOKGATE_DATABASE_URL") # postgres://user:password@host:5432/hookgate
  # The settings below apply to driver "postgres" only.
  # lease = "90s"        # a replica's claim on a delivery; default delivery.timeout + 60s
  lock_timeout   = "2m"  # wait for the lock that lets one replica at a time reconcile/migrate
  max_conns      = 16    # connection pool per replica
  sweep_interval = "10m" # retention: expired rows are deleted in batches this often

  path          = "./data" # relative to this file's folder (as file()); it also holds the pid file and control socket
  log_retention = "720h"   # delivery logs are kept 30 days
  rollup_retention = "168h" # the per-minute figures behind the dashboard's charts: 7 days
  rollup_sample    = "10s"  # how often their queue depth is sampled and new counts written
  gc_interval   = "10m"    # how often the value log is compacted
  # How long an attempt's outcome may be written but not yet synced to the
  # disk. A power loss within it sends those deliveries again (same delivery
  # id: at-least-once); a crash of the process loses nothing, and publishes
  # are synced before they are answered whatever it is. 0 syncs every outcome.
  outcome_sync_delay = "200ms"
  # How long a publish may be held for others to share its sync (at most
  # 50ms; the hold ends once 8 writes have joined). At a steady 1,000
  # events/s, 2ms cut the gateway's CPU by a quarter and 5ms by a third, for
  # 1-2.5 ms more to each publish; a client that publishes one request at a
  # time waits the whole delay every time. 0 holds none (docs/storage.md).
  commit_delay = "0s"
  # Below this much free space publishes get 507 and deliveries pause, instead
  # of Badger's mmap writes hitting a full disk (SIGBUS). 0 turns it off.
  min_free_bytes = 67108864 # 64 MiB

  # Webhook secrets and custom header values are encrypted in the data folder
  # (AES-256-GCM). The key: 32 bytes as base64 (`openssl rand -base64 32`).
  # Empty: it is read from encryption_key_file, which is created (mode 0600)
  # on the first start and logged; back it up apart from the data folder.
  encryption_key = env("HOOKGATE_ENCRYPTION_KEY")
  # encryption_key_file = "./data.key" # default: storage.path + ".key", never inside the data folder; relative to this file's folder
  # Rotating the key: set the new one above, list the old one here for one
  # start (everything is re-encrypted), then remove it. See docs/security.md.
  # previous_encryption_keys = [env("HOOKGATE_PREVIOUS_ENCRYPTION_KEY")]
}

# Delivery of events to webhook URLs. These are the defaults of the spec,
# written out so operators see them.
delivery {
  timeout = "30s" # per attempt
  # Delays before retries 1..7 (doubling from 10s to 640s).
  backoff = ["10s", "20s", "40s", "80s", "160s", "320s", "640s"]
  workers = 64 # concurrent deliveries

  allow_http             = false # true also allows http:// webhook URLs (local testing only)
  allow_private_networks = false # true allows URLs resolving to loopback/private addresses

  idempotency_ttl = "24h" # how long an Idempotency-Key of a publish is remembered
  max_retry_after = "1h"  # a receiver's Retry-After header is obeyed up to this long
  # When a webhook's secret changes, the old one keeps signing beside the new
  # one this long (at most "168h"), so receivers can switch without a gap.
  secret_grace_period = "24h"

  # Fairness: one webhook never runs more than max_in_flight_per_webhook
  # attempts at once, and webhooks whose attempts take longer than
  # slow_threshold share at most slow_share of the workers, so slow
  # receivers cannot hold back fast ones (docs/delivery.md).
  max_in_flight_per_webhook = 64
  slow_threshold            = "1s"
  slow_share                = 0.5
  # Between companies first: a company alone with due work may hold all but
  # spare_workers of the workers (kept idle for another company's next
  # delivery); companies with due work share them equally. 0 lets a lone
  # company take every worker.
  spare_workers = 2

  # Events just accepted are kept in memory for their deliveries, up to this
  # many bytes; an event larger than a sixteenth of it is read from storage
  # instead. 0 turns the cache off.
  event_cache_bytes = 33554432 # 32 MiB

  # A delivery whose rendered body (payload template result, or the envelope)
  # is larger fails without retry, naming this setting. At most 33554432.
  max_body = 1048576 # 1 MiB

  # The stream to each sink process carries requests and results in
  # batches: at most sink_batch_max per message, and, when
  # sink_batch_linger is set (e.g. "200us"), one waits at most that long
  # for others to share its message — only while others are in flight, so
  # a lone delivery is never held. Off by default: on 2 cores it saved no
  # CPU (docs/plugins.md, "Batches"); try it on machines with many cores.
  sink_batch_max    = 64
  sink_batch_linger = "0s"
  # Workers hand attempt outcomes to one recorder, which writes all those
  # waiting (at most record_batch) in one durable store write; outcomes
  # gather while the previous write syncs. record_linger waits that long at
  # most for the outcomes of the other deliveries in flight before writing a
  # batch that is not full (none in flight: no wait; "0s": never; at most
  # "1s"): larger batches, fewer syncs. A delivery counts as in flight until
  # its outcome is written.
  record_batch  = 256
  record_linger = "5ms"
  # The bucket of a webhook's or sink's rate_limit that sets no rate_burst:
  # how many attempts may go at once after an idle spell. 1 is an even pace.
  rate_burst = 1

  # Retry budget by a webhook's success rate over its last 100 attempts:
  # above high_rate it gets retries_high retries, below low_rate retries_low,
  # in between retries_medium. Never more than there are backoff delays.
  retries_high   = 7
  retries_medium = 5
  retries_low    = 3
  high_rate      = 0.95
  low_rate       = 0.80
}

# JSONata payload and URL templates.
transforms {
  engine    = "gnata" # or "jsonata-go"
  timeout   = "100ms" # per render: the payload template and all URL placeholders together
  max_depth = 200     # recursion bound per evaluation
}

# OAuth client credentials: POST /authentication/api/oauth/token with a client id and secret.
auth {
  token_ttl = "1h"
  # HS256 key for tokens (at least 32 bytes). Empty: the gateway generates
  # one and keeps it in storage, so tokens survive restarts.
  signing_key = env("HOOKGATE_SIGNING_KEY")
  # Failed authentications a client id may have per minute, from any address,
  # before the token endpoint answers 429 for it (addresses that authenticated
  # as it and have not failed since are exempt). See docs/security.md.
  max_failures_per_client = 10

  # Demo client for local use. Its secret falls back to a well-known value
  # when HOOKGATE_DEMO_SECRET is unset, so set it (or remove this client)
  # anywhere but your own machine: `hookgate serve` warns while it is in use. Instead of secret you can give
  # secret_sha256 = "<64 hex digits>" (sha256sum of the secret). A secret under
  # 16 characters gets a warning from `hookgate validate` and serve.
  client "demo" {
    secret     = env("HOOKGATE_DEMO_SECRET", "demo-secret-change-me")
    company_id = 100
    user_id    = 1068
    scopes     = ["events:publish", "webhooks:read", "webhooks:write"]
  }
}

# The management API (/api/v1/webhooks...). Rate limits are per client
# (per address before a client is known) and do not apply to publishing
# events (POST /api/v1/events).
api {
  rate_limit   = 100 # requests per minute per client
  rate_burst   = 20  # requests a client may make at once
  per_page     = 25  # default page size of webhooks and history
  log_per_page = 50  # default page size of delivery logs
  max_per_page = 500 # largest perPage any list accepts
  # A delivery-log list sorted by anything but createdAt is read by walking
  # the log and keeping the first page*perPage records in that order: this
  # many at most (deeper pages get 400: filter more, or sort by createdAt).
  max_sort_depth = 5000
  # A bulk publish (POST /api/v1/events/batch) carries at most this many
  # envelopes; its body is still bounded by server.body_limit.
  max_batch_events = 500
}

# Every company's limits (0 = none). Over a limit: creating a webhook gets
# 409, a publish 429 (rate, with Retry-After) or 507 (stored bytes); the
# answer names the setting and its value (docs/api.md).
quotas {
  webhooks      = 100        # webhooks a company has, archived ones too; webhook blocks count but are never refused
  stored_bytes  = 1073741824 # 1 GiB of event payloads a company has stored (until retention deletes them)
  publish_rate  = 1000       # events a company may publish per second, on average
  publish_burst = 2000       # events a company may publish at once
}

# A company's own limits: each one it sets replaces the quotas block's.
# company "100" {
#   webhooks = 500
# }

# Automatic webhook state changes.
lifecycle {
  auto_deactivate_after = "168h" # all deliveries failing this long (7 days): the webhook becomes inactive; "0s" disables
  check_interval        = "1h"   # how often webhooks are checked
}

# Delivery-log details carry a pre-signed URL to the full request/response record.
delivery_log {
  presign_ttl = "15m" # how long such a URL works
  # An attempt record keeps at most this much of the request and of the
  # response body, with their full sizes; the event keeps the whole payload.
  max_body = 65536 # 64 KiB; 0 keeps the sizes only
}

# Outgoing mail for notifications (auto-deactivation) to a webhook's
# notificationEmail. Without a host no email is sent; the notice is logged.
smtp {
  host     = env("HOOKGATE_SMTP_HOST")
  port     = 587
  from     = env("HOOKGATE_SMTP_FROM", "hookgate@localhost")
  username = env("HOOKGATE_SMTP_USERNAME")
  password = env("HOOKGATE_SMTP_PASSWORD")
  tls      = "starttls" # starttls (required) | tls (implicit, usually port 465) | none
  timeout  = "10s"      # per message
}

# OpenTelemetry traces (docs/observability.md): each publish, its durable
# write and fan-out, and every attempt (render, sink call, the outbound
# request, with a traceparent header) as spans exported over OTLP/HTTP.
# Off while otlp_endpoint is empty: no exporter, no spans.
telemetry {
  otlp_endpoint = env("HOOKGATE_OTLP_ENDPOINT") # e.g. "http://127.0.0.1:4318"; spans go to its /v1/traces
  # headers     = { "x-api-key" = env("HOOKGATE_OTLP_KEY") } # sent with every export
  sample_ratio  = 1.0        # share of new traces recorded; a producer's traceparent decides for its own
  service_name  = "hookgate" # the gateway's service.name; a sink's is "<this>-sink-<name>"
  trace_url     = env("HOOKGATE_TRACE_URL") # e.g. "https://traces.example.com/trace/{trace_id}": the dashboard links delivery logs to it
}

# Sinks other than the built-in "http" one are declared like this:
#   sink "snow" { type = "servicenow"  config = { instance_url = "https://x.service-now.com" } }
#   sink "mine" { command = "./bin/my-sink"  sha256 = "<64 hex digits>" }
# A sink belongs to companies: `companies = [100, ...]` lists the companies
# whose webhooks may name it. It is required on every sink but type "http"
# (servicenow, salesforce and custom sinks deliver with the credentials in
# their config); an http sink without it is open to every company.
# A sink may carry `rate_limit = "1000/h"` (and `rate_burst`): one limit for
# every webhook delivering through it, such as one ServiceNow instance's.
# `cpus = N` sets the sink process's GOMAXPROCS (default: half the gateway's,
# at least 1; the implicit http sink gets the default too). A sink mostly
# waits on the network, and fewer Ps spin less between its exchanges.

# An example webhook. It is inactive, so a fresh `make run` delivers nowhere;
# set status = "active" and a real url to try it.
webhook "example" {
  company_id = 100
  user_id    = 1068 # optional
  url        = "https://example.com/hooks" # https only unless delivery.allow_http; may hold {{ JSONata }} placeholders
  method     = "post"     # post | put
  status     = "inactive" # active | inactive | archived
  events     = ["workorder.created", "workorder.status.published"]
  # secret = env("EXAMPLE_WEBHOOK_SECRET") # a UUID; absent: generated by the gateway (`hookgate secret example` prints it)
  headers = { "X-Example" = "hookgate" }    # names starting with X-Fn- are reserved
  # The body sent; absent: the event envelope as is.
  payload_template = file("templates/example.jsonata")
  sink             = "http" # the built-in HTTP sink
  # notification_email = "ops@example.com"
  # model_properties   = ["id", "title"]  # keep only these work order properties
  # signature_format    = "standard-webhooks" # also send webhook-id/-timestamp/-signature (default "fn")
  # secret_grace_period = "24h"               # overrides delivery.secret_grace_period for this webhook
  # rate_limit    = "20/s" # at most this many attempts a second ("/m": a minute, "/h": an hour); waiting is not an attempt
  # rate_burst    = 5      # attempts at once after an idle spell (default delivery.rate_burst)
  # max_in_flight = 4      # overrides delivery.max_in_flight_per_webhook for this webhook
  # ordering         = "work_order" # one work order's deliveries go one at a time, in the order accepted,
  #                                 # each with X-FN-Sequence (default "none": all in parallel); docs/delivery.md
  # ordering_on_dead = "hold"       # with ordering: a dead letter holds its work order's lane until it is
  #                                 # retried or released (GET/POST /api/v1/webhooks/{id}/lanes); default "continue"
}

server {
  listen           = "127.0.0.1:9090"
  public_url       = "https://hooks.example.com/"
  body_limit       = 2048
  shutdown_timeout = "5s"
}
storage {
  path          = "/var/lib/hookgate"
  log_retention = "48h"
  gc_interval   = "1m"
  min_free_bytes = 268435456 # 256 MiB
  encryption_key_file      = "/etc/hookgate/hookgate.key"
  previous_encryption_keys = [env("OLD_KEY"), "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8="]
}
delivery {
  timeout  = "10s"
  backoff  = ["1s", "2s", "3s"]
  workers  = 8
  allow_http             = true
  allow_private_networks = true
  idempotency_ttl = "1h"
  retries_high    = 3
  retries_medium  = 2
  retries_low     = 1
  high_rate       = 0.9
  low_rate        = 0.5
  max_retry_after = "5m"
  secret_grace_period = "48h"
  rate_burst      = 2
}
transforms {
  engine    = "jsonata-go"
  timeout   = "50ms"
  max_depth = 20
}
auth {
  token_ttl   = "15m"
  signing_key = env("HOOKGATE_SIGNING_KEY")
  client "acme" {
    secret     = env("ACME_CLIENT_SECRET")
    company_id = 100
    user_id    = 1068
    scopes     = ["events:publish", "webhooks:read", "webhooks:write"]
  }
  client "hashed" {
    secret_sha256 = "9F86D081884C7D659A2FEAA0C55AD015A3BF4F1B2B0B822CD15D6C15B0F00A08"
    company_id    = 7
    scopes        = ["webhooks:read"]
  }
}
sink "snow" {
  type   = "servicenow"
  config = { instance_url = "https://x", retries = 2 }
  companies = [100, 7]
  rate_limit = "1000/h"
}
sink "custom" {
  command = "./bin/x"
  companies = [100]
  sha256  = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
}
webhook "erp-sync" {
  company_id       = 100
  user_id          = 1068
  url              = "https://erp.example.com/hooks/{{ workorder.id }}"
  method           = "PUT"
  status           = "active"
  events           = ["workorder.status.published", "workorder.created"]
  secret           = env("ERP_SECRET")
  headers          = { Authorization = "Bearer t0k3n", "X-Custom" = "1" }
  payload_template = file("templates/erp.jsonata")
  sink             = "snow"
  notification_email = "ops@example.com"
  model_properties = ["id", "title"]
  signature_format = "standard-webhooks"
  secret_grace_period = "1h"
  rate_limit       = "5/s"
  rate_burst       = 10
  max_in_flight    = 4
  ordering         = "work_order"
  ordering_on_dead = "hold"
}
webhook "minimal" {
  company_id = 5
  url        = "http://localhost:9999/in"
  events     = ["workorder.routed"]
}
api {
  rate_limit   = 600
  rate_burst   = 50
  per_page     = 10
  max_per_page = 100
  log_per_page = 40
}
smtp {
  host     = "mail.example.com"
  port     = 465
  from     = "Hookgate <hookgate@example.com>"
  username = "hookgate"
  password = env("SMTP_PASSWORD", "pw")
  tls      = "tls"
  timeout  = "5s"
}
lifecycle {
  auto_deactivate_after = "72h"
  check_interval        = "10m"
}
delivery_log {
  presign_ttl = "5m"
}
telemetry {
  otlp_endpoint = "https://otlp.example.com"
  headers       = { "x-api-key" = "k" }
  sample_ratio  = 0.5
  service_name  = "hooks-eu"
  trace_url     = "https://traces.example.com/trace/{trace_id}"
}

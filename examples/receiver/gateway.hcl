# A gateway made for trying hookgate with examples/receiver on this machine
# (README, "Try it"). It differs from the shipped gateway.hcl in one way that
# matters: it delivers to the receiver over plain http on loopback, which a
# real gateway must refuse. Do not use it for anything else.
#
#   ./bin/hookgate serve --config examples/receiver/gateway.hcl
#
# The env() defaults are what the README uses; its test runs the same file
# on free ports.

server {
  listen = env("HOOKGATE_LISTEN", "127.0.0.1:8080")
}

storage {
  path = "data" # examples/receiver/data: relative paths start at this file's folder
}

delivery {
  # Only because the receiver is http://127.0.0.1: plain http and loopback
  # are refused by default (SSRF; docs/security.md). A real receiver is
  # https on a public address, and these stay false.
  allow_http             = true
  allow_private_networks = true
}

auth {
  # The publisher of the README's curl. Set HOOKGATE_DEMO_SECRET to use
  # another secret.
  client "demo" {
    secret     = env("HOOKGATE_DEMO_SECRET", "demo-secret-change-me")
    company_id = 100
    user_id    = 1068
    scopes     = ["events:publish", "webhooks:read", "webhooks:write"]
  }
}

# The receiver's webhook. No secret here: the gateway generates one on the
# first start and keeps it; `hookgate secret receiver` prints it for the
# receiver to verify X-FN-Signature with.
webhook "receiver" {
  company_id = 100
  url        = env("RECEIVER_URL", "http://127.0.0.1:9000/hooks")
  events     = ["workorder.created", "workorder.status.published"]
}

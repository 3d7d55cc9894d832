# hookgate → ServiceNow: every work order event upserts one incident.
# Walk-through: README.md in this folder. Check it with
#   hookgate validate examples/servicenow/gateway.hcl
# (validate also starts the servicenow sink, which checks its settings).

server  { listen = "127.0.0.1:8080" }
storage { path = "./data" }

delivery {
  timeout = "30s"
  # Off in production. The tests set them to reach a fake instance on loopback.
  allow_http             = env("HOOKGATE_ALLOW_HTTP", "false")
  allow_private_networks = env("HOOKGATE_ALLOW_PRIVATE_NETWORKS", "false")
}

auth {
  client "fieldnation" {
    secret     = env("HOOKGATE_CLIENT_SECRET")
    company_id = 100
    scopes     = ["events:publish", "webhooks:read"]
  }
}

sink "snow" {
  type = "servicenow"
  companies = [100] # whose webhooks may use it: they write into this instance with its credentials
  config = {
    instance_url      = env("SNOW_INSTANCE_URL") # https://acme.service-now.com
    table             = "incident"
    correlation_field = "correlation_id" # the upsert key; the template sets it
    auth              = "oauth"          # or "basic" with username and password only
    client_id         = env("SNOW_CLIENT_ID")
    client_secret     = env("SNOW_CLIENT_SECRET")
    # With username and password the password grant is used; without, client_credentials.
    username          = env("SNOW_USER")
    password          = env("SNOW_PASSWORD")
  }
}

webhook "snow-incidents" {
  company_id = 100
  # Shown in the delivery log; the servicenow sink sends to instance_url.
  url    = "https://acme.service-now.com/api/now/table/incident"
  events = [
    "workorder.created", "workorder.status.published", "workorder.status.assigned",
    "workorder.status.checked_in", "workorder.status.work_done", "workorder.status.cancelled",
  ]
  payload_template = file("templates/incident.jsonata")
  sink             = "snow"
}

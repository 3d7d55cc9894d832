# hookgate → Salesforce: every work order event upserts one Case.
# Walk-through: README.md in this folder. Check it with
#   hookgate validate examples/salesforce/gateway.hcl
# (validate also starts the salesforce sink, which checks its settings).

server  { listen = "127.0.0.1:8080" }
storage { path = "./data" }

delivery {
  timeout = "30s"
  # Off in production. The tests set them to reach a fake org on loopback.
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

sink "sfdc" {
  type = "salesforce"
  companies = [100] # whose webhooks may use it: they write into this org with its credentials
  config = {
    # Your My Domain login URL (client credentials needs it), e.g.
    # https://acme.my.salesforce.com; sandboxes: https://acme--dev.sandbox.my.salesforce.com
    login_url         = env("SF_LOGIN_URL")
    client_id         = env("SF_CLIENT_ID")     # the connected app's consumer key
    client_secret     = env("SF_CLIENT_SECRET") # and consumer secret
    api_version       = "v60.0"
    object            = "Case"
    external_id_field = "FN_Work_Order_Id__c" # a Text field marked External ID (and Unique)
    # token_ttl       = "1h" # reuse a token this long (Salesforce does not say); refreshed on INVALID_SESSION_ID anyway
  }
}

webhook "sfdc-cases" {
  company_id = 100
  # Shown in the delivery log; the salesforce sink sends to the instance_url of its token.
  url    = "https://acme.my.salesforce.com/services/data/v60.0/sobjects/Case"
  events = [
    "workorder.created", "workorder.status.published", "workorder.status.assigned",
    "workorder.status.checked_in", "workorder.status.work_done", "workorder.status.approved",
    "workorder.status.cancelled",
  ]
  payload_template = file("templates/case.jsonata")
  sink             = "sfdc"
}

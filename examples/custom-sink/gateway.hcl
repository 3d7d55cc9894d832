# hookgate → Microsoft Teams through the example custom sink (README.md).
server  { listen = "127.0.0.1:8080" }
storage { path = "./data" }

auth {
  client "fieldnation" {
    secret     = env("HOOKGATE_CLIENT_SECRET")
    company_id = 100
    scopes     = ["events:publish"]
  }
}

sink "teams" {
  command = "./bin/hookgate-sink-teams"      # relative to the working directory
  companies = [100]                          # whose webhooks may use it (its webhook_url posts to your Teams)
  sha256  = env("TEAMS_SINK_SHA256", "")     # pin: sha256sum bin/hookgate-sink-teams
  config  = {
    webhook_url = env("TEAMS_WEBHOOK_URL")   # the workflow's URL; it holds a signature, keep it secret
  }
}

webhook "teams-alerts" {
  company_id       = 100
  url              = "https://teams.microsoft.com/" # shown in the delivery log; the sink posts to webhook_url
  events           = ["workorder.status.at_risk", "workorder.status.delayed", "workorder.problem_reported"]
  payload_template = file("templates/teams-card.jsonata")
  sink             = "teams"
}

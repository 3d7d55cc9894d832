server {
  body_limit = 0
}
delivery {
  timeout = "10x"
  backoff = []
  workers = 0
  high_rate = 1.5
}
auth {
  client "c1" {
    company_id = 0
    scopes     = ["events:publish", "events:read"]
  }
}
webhook "w" {
  company_id = 1
  url        = "ftp://x"
  events     = ["workorder.nope"]
  method     = "get"
}
webhook "w" {
  company_id = 1
}

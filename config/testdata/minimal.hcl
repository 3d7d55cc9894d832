# Nothing but one webhook: everything else is defaulted.
webhook "a" {
  company_id = 1
  url        = "https://a.example.com/"
  events     = ["workorder.created"]
}

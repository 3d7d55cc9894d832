package badger

// SetBeforeSync makes s run f between a durable group's commit and its
// sync (TestClaimsWaitForTheSync).
func SetBeforeSync(s *Store, f func()) { s.beforeSync = f }

package badger

// SetBeforeSync makes s run f between a durable group's commit and its
// sync (TestClaimsWaitForTheSync).
func SetBeforeSync(s *Store, f func()) { s.beforeSync = f }

// RotatedLogsSynced returns how many memtable logs badger rotated out
// the store's syncs have synced (TestSyncCoversRotatedLogs).
func RotatedLogsSynced(s *Store) int {
	if s.logs == nil {
		return 0
	}
	s.logs.mu.Lock()
	defer s.logs.mu.Unlock()
	return s.logs.synced
}

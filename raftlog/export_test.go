package raftlog

// SetMapWindow sets the remap window for a test and returns the old one.
func SetMapWindow(n int) int { old := mapWindow; mapWindow = n; return old }

// SetRemapHook sets a function run before each remap of raft.db.
func SetRemapHook(fn func()) { remapHook = fn }

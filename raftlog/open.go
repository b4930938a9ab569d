package raftlog

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	bolt "go.etcd.io/bbolt"
	berrors "go.etcd.io/bbolt/errors"
)

// ErrInUse means raft.db is locked by a running Consul server.
var ErrInUse = errors.New("raft.db is in use by a running Consul server: stop it, or copy the data dir and point snaptool at the copy")

// ErrNotRaftLog means the input is not a raft-boltdb file (or a directory
// holding one).
var ErrNotRaftLog = errors.New("not a raft log")

// Bucket names of hashicorp/raft-boltdb (v1 and v2).
var (
	bucketLogs = []byte("logs")
	bucketConf = []byte("conf")
)

// boltMagic is bbolt's meta-page magic (little-endian uint32 at offset 16
// of page 0 on every platform bbolt supports).
const boltMagic = 0xED0CDAED

// DefaultLockTimeout is how long Open waits for the file lock.
const DefaultLockTimeout = time.Second

// Options configure Open.
type Options struct {
	// Snapshot is a snapshot (any form decode.Open takes) whose ACLToken
	// records resolve tokens. Empty: the newest snapshot in the data dir's
	// raft/snapshots, if there is one.
	Snapshot string
	// NoSnapshot skips the snapshot lookup: tokens are resolved from the
	// log's own token writes only.
	NoSnapshot bool
	// ShowSecrets shows secrets (callers' tokens included) instead of
	// fingerprints.
	ShowSecrets bool
	// LockTimeout bounds the wait for the file lock; 0 means DefaultLockTimeout.
	LockTimeout time.Duration
	// Backend picks the log store when a data dir has both: "boltdb"
	// (raft/raft.db) or "wal" (raft/wal/, hashicorp/raft-wal). Empty:
	// raft.db if there is one, else the WAL.
	Backend string
}

// Conf is raft-boltdb's "conf" bucket: raft's stable store.
type Conf struct {
	CurrentTerm  uint64 `json:"current_term"`
	LastVoteTerm uint64 `json:"last_vote_term"`
	LastVoteCand string `json:"last_vote_cand"`
}

// Log is an open raft log.
type Log struct {
	// Path is the raft.db file, or the wal directory.
	Path string
	// Backend is "boltdb" or "wal".
	Backend string
	// SnapshotPath is the snapshot whose tokens were loaded ("" if none).
	SnapshotPath string
	// SnapshotTokens is how many ACL tokens the snapshot gave.
	SnapshotTokens int
	// SnapshotErr is why no snapshot of the data dir was used (none there,
	// or damaged) when Options.Snapshot was not given: callers resolve from
	// the log alone and should say so.
	SnapshotErr error

	db     *bolt.DB // raft.db, or wal-meta.db for the WAL
	wal    walState
	opts   Options
	tokens *tokenTable
	chunks chunkState
	scans  map[*Scanner]struct{} // open scans, ended by Close
}

// Open opens a raft log read-only: path is a Consul data dir, its raft/
// dir, or a raft.db file.
func Open(path string, opts Options) (*Log, error) {
	timeout := (&Log{opts: opts}).lockTimeout()
	dbPath, dbErr := resolve(path)
	walDir, hasWAL := findWAL(path)
	var l *Log
	switch {
	case opts.Backend == "wal" || (opts.Backend == "" && dbErr != nil && hasWAL):
		if !hasWAL {
			return nil, fmt.Errorf("%s: %w: no raft-wal directory (wal/%s)", path, ErrNotRaftLog, walMetaFile)
		}
		db, st, err := openWALMeta(walDir, timeout)
		if err != nil {
			return nil, err
		}
		l = &Log{Path: walDir, Backend: "wal", db: db, wal: st, opts: opts, tokens: newTokenTable()}
	case opts.Backend == "" || opts.Backend == "boltdb":
		if dbErr != nil {
			return nil, dbErr
		}
		db, err := openBolt(dbPath, timeout)
		if err != nil {
			return nil, err
		}
		l = &Log{Path: dbPath, Backend: "boltdb", db: db, opts: opts, tokens: newTokenTable()}
	default:
		return nil, fmt.Errorf("backend %q: want boltdb or wal", opts.Backend)
	}
	if !opts.NoSnapshot {
		snap := opts.Snapshot
		explicit := snap != ""
		if !explicit {
			snap = filepath.Dir(l.Path) // raft/: decode.Open finds raft/snapshots/<newest>
		}
		n, used, err := l.tokens.loadSnapshot(snap)
		switch {
		case err != nil && explicit:
			l.db.Close()
			return nil, fmt.Errorf("token snapshot: %w", err)
		case err != nil:
			l.SnapshotErr = err
		default:
			l.SnapshotPath, l.SnapshotTokens = used, n
		}
	}
	return l, nil
}

// openBolt opens raft.db read-only. ReadOnly: O_RDONLY, flock(LOCK_SH),
// mmap(PROT_READ); bbolt returns before any write path in this mode.
func openBolt(dbPath string, timeout time.Duration) (*bolt.DB, error) {
	if err := sniff(dbPath); err != nil {
		return nil, err
	}
	db, err := bolt.Open(dbPath, 0o400, &bolt.Options{ReadOnly: true, Timeout: timeout})
	if err != nil {
		if errors.Is(err, berrors.ErrTimeout) {
			return nil, fmt.Errorf("%s: %w", dbPath, ErrInUse)
		}
		return nil, fmt.Errorf("%s: %w", dbPath, err)
	}
	if err := db.View(func(tx *bolt.Tx) error {
		if tx.Bucket(bucketLogs) == nil {
			return fmt.Errorf("%s: %w: BoltDB file without a %q bucket", dbPath, ErrNotRaftLog, bucketLogs)
		}
		return nil
	}); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
}

// resolve maps a data dir, raft/ dir or file to the raft.db path.
func resolve(path string) (string, error) {
	st, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	if !st.IsDir() {
		return path, nil
	}
	for _, c := range []string{filepath.Join(path, "raft.db"), filepath.Join(path, "raft", "raft.db")} {
		if _, err := os.Stat(c); err == nil {
			return c, nil
		}
	}
	return "", fmt.Errorf("%s: %w: no raft.db in it or in its raft/ directory", path, ErrNotRaftLog)
}

// sniff refuses anything that is not a non-empty regular BoltDB file, so
// that bbolt never reaches its initialise-an-empty-file path.
func sniff(path string) error {
	st, err := os.Stat(path)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s: %w: not a regular file", path, ErrNotRaftLog)
	}
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	var hdr [20]byte
	if _, err := io.ReadFull(f, hdr[:]); err != nil {
		return fmt.Errorf("%s: %w: %d bytes, too short for a BoltDB file", path, ErrNotRaftLog, st.Size())
	}
	if binary.LittleEndian.Uint32(hdr[16:]) != boltMagic {
		return fmt.Errorf("%s: %w: no BoltDB magic at offset 16", path, ErrNotRaftLog)
	}
	return nil
}

func (l *Log) lockTimeout() time.Duration {
	if l.opts.LockTimeout > 0 {
		return l.opts.LockTimeout
	}
	return DefaultLockTimeout
}

// Close ends any scan still open (bbolt's Close would wait for its read
// transaction forever) and releases the file.
func (l *Log) Close() error {
	for s := range l.scans {
		s.Close()
	}
	if l.db == nil {
		return nil
	}
	err := l.db.Close()
	l.db = nil
	return err
}

// Conf reads raft's stable store.
func (l *Log) Conf() (Conf, error) {
	var c Conf
	err := l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketConf)
		if l.Backend == "wal" {
			b = tx.Bucket([]byte("stable"))
		}
		if b == nil {
			return nil
		}
		// raft-boltdb stores uint64s big-endian, raft-wal little-endian.
		u64 := binary.BigEndian.Uint64
		if l.Backend == "wal" {
			u64 = binary.LittleEndian.Uint64
		}
		if v := b.Get([]byte("CurrentTerm")); len(v) == 8 {
			c.CurrentTerm = u64(v)
		}
		if v := b.Get([]byte("LastVoteTerm")); len(v) == 8 {
			c.LastVoteTerm = u64(v)
		}
		c.LastVoteCand = string(bytes.Clone(b.Get([]byte("LastVoteCand"))))
		return nil
	})
	return c, err
}

// Bounds returns the first and last index in the log and the entry count
// (0, 0, 0 for an empty log). For the WAL it reads every segment.
func (l *Log) Bounds() (first, last uint64, n int, err error) {
	if l.Backend == "wal" {
		src := l.newWALSource()
		defer src.close()
		for {
			idx, _, ok := src.next()
			if !ok {
				break
			}
			if n == 0 {
				first = idx
			}
			last = idx
			n++
		}
		return first, last, n, src.err
	}
	err = l.db.View(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketLogs)
		n = b.Stats().KeyN
		c := b.Cursor()
		if k, _ := c.First(); len(k) == 8 {
			first = binary.BigEndian.Uint64(k)
		}
		if k, _ := c.Last(); len(k) == 8 {
			last = binary.BigEndian.Uint64(k)
		}
		return nil
	})
	return first, last, n, err
}

func (l *Log) newWALSource() *walSource {
	return &walSource{dir: l.Path, segs: l.wal.Segments}
}

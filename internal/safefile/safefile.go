// Package safefile writes output files without ever touching an input:
// content goes to a temp file in the destination directory, which is
// renamed over the destination only when complete, and removed on every
// error path and on SIGINT/SIGTERM. A destination that is one of the
// inputs, or that exists and is not a regular file (a device such as
// /dev/null, a FIFO, a directory, a socket, or a symlink to one), is
// refused: a rename would replace it. A new file is created 0600 whatever
// the umask (an export can hold secrets); an existing regular file keeps
// its mode. NotifyContext is the process's one SIGINT/SIGTERM handler: it
// removes the temp files, cancels the command's context with the signal
// as its cause, and exits 130 or 143 if the process has not ended within
// its grace.
package safefile

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/signal"
	"path/filepath"
	"sync"
	"syscall"
	"time"
)

// ErrIsInput means the destination is one of the command's input files.
var ErrIsInput = errors.New("refusing to overwrite an input file")

// ErrNotRegular means the destination exists and is not a regular file.
var ErrNotRegular = errors.New("refusing to write over something that is not a regular file")

// ErrInterrupted means a signal arrived while the file was being written:
// the temp file has been removed and the destination left as it was.
var ErrInterrupted = errors.New("interrupted: output not written")

// temps is the registry of live temp files, removed by RemoveTemps.
var temps struct {
	sync.Mutex
	live    map[string]struct{}
	stopped bool // RemoveTemps ran: no new temp file, no rename
}

// Write creates path atomically with the bytes write produces. inputs are
// the paths the command reads; if path is the same file as any of them
// (compared by inode, so links and relative paths are caught), nothing is
// written. If path exists and is not a regular file (after following
// symlinks), nothing is written either.
func Write(path string, inputs []string, write func(w io.Writer) error) (err error) {
	mode := fs.FileMode(0o600)
	if st, serr := os.Stat(path); serr == nil {
		if !st.Mode().IsRegular() {
			return fmt.Errorf("%w: %s is %s", ErrNotRegular, path, kind(st.Mode()))
		}
		for _, in := range inputs {
			if ist, ierr := os.Stat(in); ierr == nil && os.SameFile(st, ist) {
				return fmt.Errorf("%w: %s", ErrIsInput, path)
			}
		}
		mode = st.Mode().Perm()
	} else if lst, lerr := os.Lstat(path); lerr == nil && lst.Mode()&fs.ModeSymlink != 0 {
		// A dangling symlink: the rename would replace the link, not
		// create its target; refuse rather than guess.
		return fmt.Errorf("%w: %s is a symlink to a missing file", ErrNotRegular, path)
	}
	tmp, err := createTemp(path)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
			unregister(tmp.Name())
		}
	}()
	if err = write(tmp); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	// os.CreateTemp made it 0600; chmod is not subject to the umask.
	if mode != 0o600 {
		if err = os.Chmod(tmp.Name(), mode); err != nil {
			return err
		}
	}
	return rename(tmp.Name(), path)
}

// kind names a non-regular file mode for an error message.
func kind(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	}
	return "not a regular file (" + m.Type().String() + ")"
}

// createTemp creates the temp file beside path and registers it.
func createTemp(path string) (*os.File, error) {
	temps.Lock()
	defer temps.Unlock()
	if temps.stopped {
		return nil, ErrInterrupted
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return nil, err
	}
	if temps.live == nil {
		temps.live = map[string]struct{}{}
	}
	temps.live[tmp.Name()] = struct{}{}
	return tmp, nil
}

func unregister(name string) {
	temps.Lock()
	delete(temps.live, name)
	temps.Unlock()
}

// rename renames the temp file over the destination unless RemoveTemps has
// run; holding the registry's lock makes the two exclusive.
func rename(tmp, path string) error {
	temps.Lock()
	defer temps.Unlock()
	if temps.stopped {
		return ErrInterrupted
	}
	delete(temps.live, tmp)
	return os.Rename(tmp, path)
}

// RemoveTemps removes every temp file of a Write in progress and makes
// every later or unfinished Write fail with ErrInterrupted without
// renaming. It is meant for a signal path, is safe to call from any
// goroutine and more than once, and returns the names it removed.
func RemoveTemps() []string {
	temps.Lock()
	defer temps.Unlock()
	temps.stopped = true
	var removed []string
	for name := range temps.live {
		if os.Remove(name) == nil {
			removed = append(removed, name)
		}
		delete(temps.live, name)
	}
	return removed
}

// Interrupted is the cause of a context canceled by a signal (see
// NotifyContext). errors.Is(err, context.Canceled) holds for it, so code
// that stops on ctx.Err() needs nothing more; ExitCode is what the process
// exits with: 128 + the signal's number (130 for SIGINT, 143 for SIGTERM).
type Interrupted struct {
	Signal syscall.Signal
}

func (e *Interrupted) Error() string {
	switch e.Signal {
	case syscall.SIGINT:
		return "interrupted (SIGINT)"
	case syscall.SIGTERM:
		return "interrupted (SIGTERM)"
	}
	return "interrupted (" + e.Signal.String() + ")"
}

// Is makes an *Interrupted a context.Canceled.
func (e *Interrupted) Is(target error) bool { return target == context.Canceled }

// ExitCode is 128 + the signal's number.
func (e *Interrupted) ExitCode() int { return 128 + int(e.Signal) }

// NotifyContext is the process's one handler of SIGINT and SIGTERM. The
// returned context is canceled, with an *Interrupted naming the signal as
// its cause (context.Cause), when the first of them arrives; at the same
// moment the temp files of any Write in progress are removed
// (RemoveTemps). The process then has grace to end on its own (a command
// that watches its context returns and main exits with the code the cause
// gives); if it is still running after grace (a read blocked on a stalled
// pipe, say), exit is called with 128 + the signal number (130, 143); a
// second signal calls it at once. main passes os.Exit, or a function that
// says so on stderr first. stop unregisters the handler and releases the
// context.
func NotifyContext(parent context.Context, grace time.Duration, exit func(code int)) (ctx context.Context, stop func()) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 1)
	done := make(chan struct{})
	signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
	interrupted := func(sig os.Signal) *Interrupted {
		if s, ok := sig.(syscall.Signal); ok {
			return &Interrupted{Signal: s}
		}
		return &Interrupted{Signal: syscall.SIGINT}
	}
	go func() {
		select {
		case sig := <-ch:
			in := interrupted(sig)
			RemoveTemps()
			cancel(in)
			select {
			case <-time.After(grace):
				exit(in.ExitCode())
			case again := <-ch: // a second Ctrl-C does not wait
				exit(interrupted(again).ExitCode())
			case <-done:
			}
		case <-done:
		}
	}()
	var once sync.Once
	return ctx, func() {
		once.Do(func() {
			signal.Stop(ch)
			close(done)
			cancel(nil)
		})
	}
}

// CleanupOnSignal is NotifyContext for a caller that needs no context:
// SIGINT and SIGTERM remove the temp files at once, and exit is called
// with 130 or 143 if the process is still running after grace.
func CleanupOnSignal(grace time.Duration, exit func(code int)) (stop func()) {
	_, stop = NotifyContext(context.Background(), grace, exit)
	return stop
}

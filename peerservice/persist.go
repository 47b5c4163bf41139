package peerservice

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// membershipFile is the file under Config.DataDir that holds membership.
const membershipFile = "membership.json"

// saveState writes st to dir atomically (write a temporary file, then rename).
func saveState(dir string, st State) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("peerservice: data dir: %w", err)
	}
	b, err := json.Marshal(st)
	if err != nil {
		return fmt.Errorf("peerservice: encode membership: %w", err)
	}
	tmp, err := os.CreateTemp(dir, membershipFile+".*")
	if err != nil {
		return fmt.Errorf("peerservice: save membership: %w", err)
	}
	if _, err := tmp.Write(b); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("peerservice: save membership: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("peerservice: save membership: %w", err)
	}
	if err := tmp.Close(); err != nil {
		_ = os.Remove(tmp.Name())
		return fmt.Errorf("peerservice: save membership: %w", err)
	}
	if err := os.Rename(tmp.Name(), filepath.Join(dir, membershipFile)); err != nil {
		return fmt.Errorf("peerservice: save membership: %w", err)
	}
	return nil
}

// loadState reads the membership saved in dir; a missing file is an empty
// state.
func loadState(dir string) (State, bool, error) {
	b, err := os.ReadFile(filepath.Join(dir, membershipFile))
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, false, nil
	}
	if err != nil {
		return State{}, false, fmt.Errorf("peerservice: load membership: %w", err)
	}
	var st State
	if err := json.Unmarshal(b, &st); err != nil {
		return State{}, false, fmt.Errorf("peerservice: load membership %s: %w", filepath.Join(dir, membershipFile), err)
	}
	return st, true, nil
}

// clearState deletes the membership saved in dir, as a node does when it
// leaves: a restart from dir then starts alone. A missing file is no error.
func clearState(dir string) error {
	err := os.Remove(filepath.Join(dir, membershipFile))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("peerservice: clear membership: %w", err)
	}
	return nil
}

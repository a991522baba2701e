package motoserver

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
)

// ModuleRoot returns the directory of the nearest go.mod at or above the working directory: the place
// where `make venv` puts .venv and where infra/moto/serve.py lives. Tests run in their package's
// directory, so this finds the repository root from any package.
func ModuleRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("module root: %w", err)
	}
	for dir := wd; ; {
		_, err := os.Stat(filepath.Join(dir, "go.mod"))
		if err == nil {
			return dir, nil
		}
		if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("module root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("module root: no go.mod at or above %s", wd)
		}
		dir = parent
	}
}

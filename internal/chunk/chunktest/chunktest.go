// Package chunktest helps tests work with chunk volumes: extracting tar
// archives that carry extended attributes, and locating the reference
// volume recorded from the real OpenIO SDS chunk server.
package chunktest

import (
	"archive/tar"
	"compress/gzip"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"
)

// ReferenceEnv names the environment variable that points at the folder of
// the OpenIO reference volume (volume.tar.gz, xattrs.txt, http-transcript.txt).
const ReferenceEnv = "GRIDKEEP_OIO_REFERENCE"

// ReferenceDir returns the reference folder. When it is not configured the
// test is skipped, except under CI where it must be present.
func ReferenceDir(t testing.TB) string {
	t.Helper()
	dir := os.Getenv(ReferenceEnv)
	if dir == "" {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is not set: the OpenIO reference volume is required under CI", ReferenceEnv)
		}
		t.Skipf("%s is not set; ./scripts/test.sh sets it when the reference volume is present",
			ReferenceEnv)
	}
	return dir
}

// ExtractReference extracts the reference volume into a temporary folder
// and returns the path of its volume root.
func ExtractReference(t testing.TB) string {
	t.Helper()
	dst := t.TempDir()
	if err := ExtractTarGz(filepath.Join(ReferenceDir(t), "volume.tar.gz"), dst); err != nil {
		t.Fatal(err)
	}
	return filepath.Join(dst, "vol")
}

// ExtractTarGz extracts a gzip-compressed tar archive into dst, restoring
// the extended attributes recorded as PAX "SCHILY.xattr." records.
func ExtractTarGz(archive, dst string) error {
	f, err := os.Open(archive)
	if err != nil {
		return err
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		return fmt.Errorf("extract %s: %w", archive, err)
	}
	tr := tar.NewReader(zr)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return fmt.Errorf("extract %s: %w", archive, err)
		}
		if err := extractOne(tr, h, dst); err != nil {
			return fmt.Errorf("extract %s: %w", archive, err)
		}
	}
}

func extractOne(tr *tar.Reader, h *tar.Header, dst string) error {
	name := filepath.Clean(h.Name)
	if filepath.IsAbs(name) || strings.HasPrefix(name, "..") {
		return fmt.Errorf("unsafe path %q", h.Name)
	}
	path := filepath.Join(dst, name)
	switch h.Typeflag {
	case tar.TypeDir:
		if err := os.MkdirAll(path, 0o755); err != nil {
			return err
		}
	case tar.TypeReg:
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			return err
		}
		out, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		_, err = io.Copy(out, tr)
		if cerr := out.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	default:
		return nil
	}
	for k, v := range h.PAXRecords {
		if attr, ok := strings.CutPrefix(k, "SCHILY.xattr."); ok {
			if err := unix.Lsetxattr(path, attr, []byte(v), 0); err != nil {
				return fmt.Errorf("set xattr %s on %s: %w", attr, name, err)
			}
		}
	}
	return nil
}

// ParseGetfattrDump parses the text of `getfattr -d` into a map from file
// path to attribute name to value. Values are the quoted strings as dumped.
func ParseGetfattrDump(text string) map[string]map[string]string {
	out := make(map[string]map[string]string)
	var cur map[string]string
	for _, line := range strings.Split(text, "\n") {
		switch {
		case strings.HasPrefix(line, "# file: "):
			cur = make(map[string]string)
			out[strings.TrimPrefix(line, "# file: ")] = cur
		case cur != nil && strings.Contains(line, "="):
			k, v, _ := strings.Cut(line, "=")
			cur[k] = strings.TrimSuffix(strings.TrimPrefix(v, `"`), `"`)
		}
	}
	return out
}

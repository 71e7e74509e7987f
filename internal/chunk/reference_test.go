package chunk_test

import (
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"sort"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/chunk/chunktest"
)

// TestReferenceVolume reads the volume written by the real OpenIO chunk
// server and checks every attribute of every chunk against the getfattr
// dump taken from it, and every field against what was uploaded.
func TestReferenceVolume(t *testing.T) {
	vol := chunktest.ExtractReference(t)
	dumpText, err := os.ReadFile(filepath.Join(chunktest.ReferenceDir(t), "xattrs.txt"))
	if err != nil {
		t.Fatal(err)
	}
	dump := chunktest.ParseGetfattrDump(string(dumpText))

	id, err := chunk.CheckVolume(vol)
	if err != nil {
		t.Fatal(err)
	}
	if want := (chunk.VolumeIdentity{"OPENIO", "rawx", "127.0.0.1:6201"}); id != want {
		t.Errorf("volume identity %+v, want %+v", id, want)
	}

	const cid = "2886FD946717E2413226873197D9BE46259AEC71BC3629A7FDE50E7FA6FBE315"
	want := map[string]struct {
		path, method, policy, pos, hash, contentID string
		size                                       int64
		extra                                      map[string]string
	}{
		"E4A162690EC1B2482B82C4531A74B0A26E5BA8BBEFAFC6F07BEF0EF898227882": {"obj1",
			"plain/cca=blake3,nb_copy=3", "THREECOPIES", "0",
			"A8064D8476BE0BB2C7BE8261BDD48C4BE098B9100B773BE00AFA72F897052CE9",
			"A1B2C3D4E5F60718293A4B5C6D7E8F90", 4096, nil},
		"E67E03D70C725BC3ABA9868BAB0EC2054BA15C8069AE5E6D4ED96D5461D01FA4": {"obj1",
			"plain/cca=blake3,nb_copy=3", "THREECOPIES", "1",
			"10074C9AB7194792F33FD1C3646BD93AEFE2036006CC9FB64BB5BAB692DC1E05",
			"A1B2C3D4E5F60718293A4B5C6D7E8F90", 4096, map[string]string{"Color": "blue"}},
		"25B1918648FD7384B0CBDC99C44992138A553AAAFA8B36DD170CAAFEC7A7C63E": {"legacy-md5",
			"plain/nb_copy=1,cca=md5", "SINGLE", "0", "6D908A92FAA71FB05D76361F81852417",
			"ABCDEF0123456789ABCDEF0123456789", 100, nil},
	}

	var seen []string
	err = filepath.WalkDir(vol, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() || !chunk.IsID(d.Name()) {
			return err
		}
		seen = append(seen, d.Name())
		w, ok := want[d.Name()]
		if !ok {
			t.Errorf("unexpected chunk %s", d.Name())
			return nil
		}
		m, err := chunk.ReadFile(path)
		if err != nil {
			t.Errorf("%s: %v", d.Name(), err)
			return nil
		}
		if !m.IsCurrent() || m.Legacy != nil || len(m.Links) != 0 || len(m.Other) != 0 {
			t.Errorf("%s: not a plain current-format chunk: %+v", d.Name(), m)
		}
		fp := chunk.Fullpath{Account: "acct1", Container: "ctr1", Path: w.path,
			Version: 1712000000000000, ContentID: w.contentID}
		if m.Fullpath != fp || m.ContainerID() != cid || m.ChunkMethod != w.method ||
			m.StoragePolicy != w.policy || m.Position != w.pos || m.Hash != w.hash ||
			m.Size != w.size || !m.HasSize || m.HasMetaSize || m.MetachunkHash != "" ||
			m.Compression != "" || m.OioVersion != "" {
			t.Errorf("%s: parsed %+v", d.Name(), m)
		}
		if diff := cmp.Diff(w.extra, m.Extra); diff != "" {
			t.Errorf("%s: extra (-want +got):\n%s", d.Name(), diff)
		}

		// Writing the parsed metadata back gives exactly the dumped attributes.
		rel, _ := filepath.Rel(filepath.Dir(vol), path)
		got := make(map[string]string)
		for _, a := range m.Attrs() {
			got[a.Name] = a.Value
		}
		if diff := cmp.Diff(dump[rel], got); diff != "" {
			t.Errorf("%s: attributes (-dump +written):\n%s", d.Name(), diff)
		}

		checkData(t, path, m)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(seen)
	if len(seen) != len(want) {
		t.Errorf("found chunks %v, want %d", seen, len(want))
	}
}

// checkData verifies the data of the chunk against its stored hash and size.
func checkData(t *testing.T, path string, m *chunk.Meta) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	method, err := chunk.ParseMethod(m.ChunkMethod)
	if err != nil {
		t.Fatal(err)
	}
	algo, _ := method.WriteAlgo()
	h := chunk.NewHash(algo)
	n, err := io.Copy(h, f)
	if err != nil {
		t.Fatal(err)
	}
	if n != m.Size {
		t.Errorf("%s: %d bytes on disk, size attribute %d", m.ChunkID, n, m.Size)
	}
	if got := hex.EncodeToString(h.Sum(nil)); !equalFoldHex(got, m.Hash) {
		t.Errorf("%s: data hashes to %s with %s, stored %s", m.ChunkID, got, algo, m.Hash)
	}
}

func equalFoldHex(a, b string) bool {
	x, err1 := hex.DecodeString(a)
	y, err2 := hex.DecodeString(b)
	return err1 == nil && err2 == nil && string(x) == string(y)
}

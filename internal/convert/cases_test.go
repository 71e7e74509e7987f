package convert_test

import (
	"testing"

	"github.com/gridkeep/gridkeep/internal/convert"
	"github.com/gridkeep/gridkeep/internal/convert/converttest"
)

// TestConvertLegacyChunk: a chunk of each legacy era is converted to the
// current format with its owner's fullpath.
func TestConvertLegacyChunk(t *testing.T) {
	e := newEnv(t)
	for _, era := range converttest.Eras {
		t.Run(era.String(), func(t *testing.T) {
			o := e.put("legacy-"+era.String(), "dir/obj "+era.String(), 3*testChunkSize)
			for i, p := range o.paths {
				must(t, converttest.ToEra(p, o.ids[i], era, o.owner))
			}
			s, res := e.run(convert.Options{}, o.paths...)
			for i, p := range o.paths {
				wantOutcome(t, res, p, convert.Converted)
				wantOwners(t, p, map[string]converttest.Owner{o.ids[i]: o.owner})
			}
			if s.Converted != 3 || s.Errors() != 0 {
				t.Errorf("summary %+v", s)
			}
		})
	}
}

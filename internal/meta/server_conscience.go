package meta

import (
	"encoding/json"
	"fmt"
	"net/http"

	"github.com/gridkeep/gridkeep/internal/chunk"
	"github.com/gridkeep/gridkeep/internal/jsonx"
)

// conscienceRegister registers one service, or a JSON array of them.
func (s *Server) conscienceRegister(w http.ResponseWriter, r *http.Request) error {
	var raw json.RawMessage
	if err := decodeBody(r, &raw); err != nil {
		return err
	}
	var list []wireService
	if err := jsonx.Unmarshal(raw, &list); err != nil {
		var one wireService
		if err := jsonx.Unmarshal(raw, &one); err != nil {
			return fmt.Errorf("%w: service: %v", ErrInvalid, err)
		}
		list = []wireService{one}
	}
	for _, ws := range list {
		if err := s.reg.Register(ws.service()); err != nil {
			return err
		}
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// service converts a registration. OpenIO tags may carry the service id
// ("tag.service_id"); every tag value is kept as text.
func (ws wireService) service() Service {
	s := Service{Type: ws.Type, ID: ws.ID, Addr: ws.Addr, Volume: ws.Volume, Free: ws.Free,
		Total: ws.Total}
	if len(ws.Tags) > 0 {
		s.Tags = make(map[string]string, len(ws.Tags))
		for k, v := range ws.Tags {
			s.Tags[k] = fmt.Sprint(v)
		}
	}
	if s.ID == "" {
		s.ID = s.Tags["tag.service_id"]
	}
	return s
}

func toWireService(s Service, minFree int64) wireService {
	ws := wireService{Type: s.Type, ID: s.ID, Addr: s.Addr, Volume: s.Volume, Free: s.Free,
		Total: s.Total, Score: s.Score(minFree), Alive: s.Alive, Tags: map[string]any{}}
	if !s.LastSeen.IsZero() {
		ws.LastSeen = s.LastSeen.Unix()
	}
	for k, v := range s.Tags {
		ws.Tags[k] = v
	}
	ws.Tags["tag.up"] = s.Alive
	ws.Tags["tag.service_id"] = s.ID
	return ws
}

func (s *Server) conscienceHeartbeat(w http.ResponseWriter, r *http.Request) error {
	var hb wireHeartbeat
	if err := decodeBody(r, &hb); err != nil {
		return err
	}
	if err := s.reg.Heartbeat(hb.Type, hb.ID, hb.Free, hb.Total); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) conscienceDeregister(w http.ResponseWriter, r *http.Request) error {
	var hb wireHeartbeat
	if err := decodeBody(r, &hb); err != nil {
		return err
	}
	if err := s.reg.Deregister(hb.Type, hb.ID); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (s *Server) conscienceList(w http.ResponseWriter, r *http.Request) error {
	list := s.reg.List(r.URL.Query().Get("type"))
	out := make([]wireService, len(list))
	for i, svc := range list {
		out[i] = toWireService(svc, s.reg.MinFree())
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) conscienceResolve(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	svc, err := s.reg.Resolve(q.Get("type"), q.Get("service_id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, map[string]string{"addr": svc.Addr})
	return nil
}

// lbChoose picks services: the account service is this server (or
// AccountAddr), the rdir is the namespace's; other types are placed like
// chunks.
func (s *Server) lbChoose(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	size, err := intParam(q, "size", 1, 1)
	if err != nil {
		return err
	}
	var out []wireService
	switch typ := q.Get("type"); typ {
	case "account":
		addr := s.opts.AccountAddr
		if addr == "" {
			addr = r.Host
		}
		out = []wireService{{Type: typ, Addr: addr, Score: 100, Alive: true}}
	case "rdir":
		addr, err := s.rdirAddr()
		if err != nil {
			return err
		}
		out = []wireService{{Type: typ, Addr: addr, Score: 100, Alive: true}}
	default:
		chosen, err := s.reg.Choose(typ, int(min(size, 64)))
		if err != nil {
			return err
		}
		for _, svc := range chosen {
			out = append(out, toWireService(svc, s.reg.MinFree()))
		}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// rdirAddr returns the address of the namespace's reverse index.
func (s *Server) rdirAddr() (string, error) {
	if s.opts.RdirAddr != "" {
		return s.opts.RdirAddr, nil
	}
	for _, svc := range s.reg.List("rdir") {
		if svc.Alive {
			return svc.Addr, nil
		}
	}
	return "", fmt.Errorf("rdir: %w: none configured or registered", ErrNoSuchService)
}

// referenceShow answers which rdir serves a volume (acct=_RDIR,
// ref=<volume>), or which account and name a container id has.
func (s *Server) referenceShow(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	if q.Get("acct") == "_RDIR" || q.Get("type") == "rdir" {
		return s.rdirReference(w, q.Get("acct"), q.Get("ref"))
	}
	c, err := s.requestContainer(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wireReference{Dir: []any{}, Srv: []wireLinked{}, CID: c.ID,
		Account: c.Account, Name: c.Name})
	return nil
}

func (s *Server) rdirReference(w http.ResponseWriter, acct, volume string) error {
	if err := CheckAccount(acct); err != nil {
		return err
	}
	if err := CheckContainer(volume); err != nil {
		return err
	}
	addr, err := s.rdirAddr()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, wireReference{Dir: []any{},
		Srv: []wireLinked{{Seq: 1, Type: "rdir", Host: addr}},
		CID: chunk.ContainerID(acct, volume), Account: acct, Name: volume})
	return nil
}

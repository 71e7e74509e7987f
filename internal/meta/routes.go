package meta

// routes registers the API. Methods follow what the OpenIO clients send;
// a GET route also answers HEAD.
func (s *Server) routes() {
	const v3 = "/v3.0/{ns}/"
	for _, r := range []struct {
		pattern string
		h       handlerFunc
	}{
		{"POST " + v3 + "container/create", s.containerCreate},
		{"GET " + v3 + "container/show", s.containerShow},
		{"POST " + v3 + "container/get_properties", s.containerGetProperties},
		{"POST " + v3 + "container/set_properties", s.containerSetProperties},
		{"POST " + v3 + "container/del_properties", s.containerDelProperties},
		{"GET " + v3 + "container/list", s.containerList},
		{"POST " + v3 + "container/destroy", s.containerDestroy},
		{"POST " + v3 + "container/raw_update", s.containerRawUpdate},
		{"GET " + v3 + "chunk/owners", s.chunkOwners},

		{"POST " + v3 + "content/prepare2", s.contentPrepare2},
		{"POST " + v3 + "content/prepare", s.contentPrepare},
		{"POST " + v3 + "content/create", s.contentCreate},
		{"GET " + v3 + "content/locate", s.contentLocate},
		{"GET " + v3 + "content/show", s.contentLocate},
		{"POST " + v3 + "content/get_properties", s.contentGetProperties},
		{"POST " + v3 + "content/set_properties", s.contentSetProperties},
		{"POST " + v3 + "content/del_properties", s.contentDelProperties},
		{"POST " + v3 + "content/delete", s.contentDelete},

		{"POST " + v3 + "conscience/register", s.conscienceRegister},
		{"POST " + v3 + "conscience/heartbeat", s.conscienceHeartbeat},
		{"POST " + v3 + "conscience/deregister", s.conscienceDeregister},
		{"GET " + v3 + "conscience/list", s.conscienceList},
		{"GET " + v3 + "conscience/resolve", s.conscienceResolve},
		{"GET " + v3 + "lb/choose", s.lbChoose},
		{"GET " + v3 + "reference/show", s.referenceShow},

		{"GET /v1.0/account/show", s.accountShow},
		{"PUT /v1.0/account/create", s.accountCreate},
		{"GET /v1.0/account/list", s.accountList},
		{"GET /v1.0/account/containers", s.accountContainers},
		{"POST /v1.0/account/containers", s.accountContainers},
		{"GET /v1.0/account/container/show", s.accountContainerShow},
		{"GET /v1.0/bucket/show", s.bucketShow},
		{"PUT /v1.0/bucket/update", s.bucketUpdate},
		{"POST /v1.0/bucket/update", s.bucketUpdate},
	} {
		s.handle(r.pattern, r.h)
	}
}

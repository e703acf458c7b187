package collect

import (
	"errors"
	"fmt"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/subject"
)

// SubjectKeys turns an identifier as a data subject or a support engineer
// knows it (a client id, an account id, an e-mail address) into the keys
// under which collection stored that subject's events in ds: first the key
// collection stores today, then, when it differs, the key of the
// identifier as given, under which events collected before identifiers
// were normalised are stored (see package subject). The identifier is
// checked exactly as collection checks it.
func SubjectKeys(k *minimise.Keyer, ds *registry.Dataset, identifier any) ([]string, error) {
	if ds.Subject == nil {
		return nil, fmt.Errorf("dataset %s declares no subject identifier, so it cannot be searched by subject", ds.Name)
	}
	f := ds.Field(ds.Subject.Field)
	if f == nil {
		return nil, errors.New("the registry names a subject field that does not exist")
	}
	v := validator{}
	val, ok := v.check(f, identifier)
	if !ok {
		msg := "is not valid"
		if len(v.errs) > 0 {
			msg = v.errs[0].Problem
		}
		return nil, fmt.Errorf("subject %s %s", f.Name, msg)
	}
	keys := subject.Keys(k, subject.Of(ds), subject.Text(val))
	if len(keys) == 0 {
		return nil, fmt.Errorf("subject %s is blank", f.Name)
	}
	return keys, nil
}

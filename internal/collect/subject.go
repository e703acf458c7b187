package collect

import (
	"errors"
	"fmt"

	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/registry"
)

// SubjectKey turns an identifier as a data subject or a support engineer
// knows it (a client id, an account id) into the keyed hash under which
// collection stored that subject's events in ds. The identifier is checked
// and normalised exactly as collection does (for example UUIDs are
// lower-cased), so a lookup finds what was stored.
func SubjectKey(k *minimise.Keyer, ds *registry.Dataset, identifier any) (string, error) {
	if ds.Subject == nil {
		return "", fmt.Errorf("dataset %s declares no subject identifier, so it cannot be searched by subject", ds.Name)
	}
	f := ds.Field(ds.Subject.Field)
	if f == nil {
		return "", errors.New("the registry names a subject field that does not exist")
	}
	v := validator{}
	val, ok := v.check(f, identifier)
	if !ok {
		msg := "is not valid"
		if len(v.errs) > 0 {
			msg = v.errs[0].Problem
		}
		return "", fmt.Errorf("subject %s %s", f.Name, msg)
	}
	return k.Hash("subject", fmt.Sprint(val)), nil
}

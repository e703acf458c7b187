package rights

import (
	"context"
	"errors"
)

// Ways an account is looked up.
const (
	ByEmail      = "email"
	ByAppUserID  = "app_user_id"
	ByFacebookID = "facebook_id"
)

// ErrNoAccount: the identity source knows nobody by that identifier.
var ErrNoAccount = errors.New("no account")

// Account is what the identity source says about a person.
type Account struct {
	ID    string
	Email string
}

// Identity resolves the account behind an identifier, so a request is
// executed only for the account whose e-mail the requester proved to own.
type Identity interface {
	Resolve(ctx context.Context, by, value string) (Account, error)
}

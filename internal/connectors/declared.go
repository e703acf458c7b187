package connectors

import (
	"fmt"
	"regexp"
	"strings"

	"golang.org/x/text/language"
)

// Declared is what the settings say about one system that holds personal
// data, for the people it concerns: the public notice names it, and the
// records of processing list it among the recipients and, when it runs
// outside the EEA, the transfers. steward cannot find out where a system
// runs from its DSN or URL, so the settings declare it.
type Declared struct {
	// Name is the connector's name in the settings; Kind is events, sql
	// or webhook.
	Name, Kind string
	// Label names the system in words a person understands ("our
	// account database"); "" when the settings give none.
	Label string
	// Location is the ISO 3166-1 alpha-2 code of the country the system
	// runs in, upper case; "" when not declared.
	Location string
	// Safeguards says on what footing personal data goes to a system
	// outside the EEA (GDPR Art. 46, e.g. "standard contractual clauses").
	Safeguards string
}

var countryCode = regexp.MustCompile(`^[A-Za-z]{2}$`)

// checkLocation normalises a declared country code; "" stays "".
func checkLocation(at, code string) (string, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return "", nil
	}
	r, err := language.ParseRegion(code)
	if !countryCode.MatchString(code) || err != nil || !r.IsCountry() {
		return "", fmt.Errorf("%s: location %q is not a country code; give the two letters of ISO 3166-1, e.g. DE or US", at, code)
	}
	return r.String(), nil
}

func declared(name, kind, label, location, safeguards, at string) (Declared, error) {
	loc, err := checkLocation(at, location)
	return Declared{Name: name, Kind: kind, Label: strings.TrimSpace(label), Location: loc,
		Safeguards: strings.TrimSpace(safeguards)}, err
}

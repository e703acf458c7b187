package incident

import (
	"fmt"
	"slices"
	"strings"

	"github.com/steward-privacy/steward/internal/store"
)

// The ENISA scales ("Recommendations for a methodology of the assessment
// of severity of personal data breaches", v1.0, December 2013): a value
// outside them is refused, so every stored score can be read against the
// method. docs/breach.md ("Severity") has the wording of each step.
var (
	// DPCScale is the data processing context: simple (1), behavioural
	// (2), financial (3), sensitive (4) data, each raised or lowered by
	// context within 1–4.
	DPCScale = []float64{1, 2, 3, 4}
	// EIScale is ease of identification: negligible, limited, significant,
	// maximum.
	EIScale = []float64{0.25, 0.5, 0.75, 1}
	// LossScale is each loss of security (confidentiality, integrity,
	// availability): none, +0.25, +0.5.
	LossScale = []float64{0, 0.25, 0.5}
	// MaliciousScale is malicious intent: absent, or +0.5.
	MaliciousScale = []float64{0, 0.5}
)

// Levels of severity.
const (
	Low      = "low"
	Medium   = "medium"
	High     = "high"
	VeryHigh = "very_high"
)

// LevelOf is ENISA's band of a score: SE < 2 low, 2 ≤ SE < 3 medium,
// 3 ≤ SE < 4 high, SE ≥ 4 very high. Every value on the scales is a
// multiple of 0.25, so the boundaries are exact in floating point.
func LevelOf(score float64) string {
	switch {
	case score < 2:
		return Low
	case score < 3:
		return Medium
	case score < 4:
		return High
	}
	return VeryHigh
}

// ProposalOf is what a level suggests. Art. 33(1) asks for notifying the
// authority unless the breach is unlikely to result in a risk; ENISA's
// low level is that one ("individuals will not be affected or may
// encounter a few inconveniences, which they will overcome without any
// problem"), so every other level proposes it. Art. 34(1) asks for
// telling the people when the risk is likely to be high, which are
// ENISA's high and very high levels (serious or irreversible
// consequences).
func ProposalOf(level string) Applicability {
	return Applicability{Art33: level != Low, Art34: level == High || level == VeryHigh}
}

// PreScore is steward's proposal for incident inc from its blast radius
// b (ok false when none was computed): each factor with why, none
// adjusted. It reads nothing else, so it can be shown before anything is
// stored and recomputed whenever the facts change.
func PreScore(inc store.Incident, b BlastRadius, ok bool) Severity {
	var s Severity
	s.DPC = pre(dpcOf(b, ok))
	s.EI = pre(eiOf(b, ok))
	s.CB.Confidentiality = pre(confidentialityOf(inc))
	s.CB.Integrity = pre(integrityOf(inc))
	s.CB.Availability = pre(0, "steward still holds the data it keeps: no loss of availability is known; raise it when data was destroyed or cannot be reached")
	s.CB.Malicious = pre(maliciousOf(inc))
	s.Rescore()
	return s
}

func pre(v float64, why string) Factor { return Factor{Pre: v, PreWhy: why, Value: v} }

// dpcOf takes the highest category reached, as ENISA scores data of
// several categories by the highest. steward's categories (the data
// collection review's) map one to one: technical data about a device is
// at most simple data; interaction data (how a person uses the product)
// is behavioural; web activity (browsing history, stored content) is
// behavioural data raised by one for the profile it reveals, as ENISA
// raises a year of traffic data over a week; highly sensitive is
// sensitive data.
func dpcOf(b BlastRadius, ok bool) (float64, string) {
	if !ok || len(b.Categories) == 0 {
		return 4, "not known: no blast radius with field categories yet; counted as the highest (sensitive data, 4) until known, as the registry counts an unclassified field"
	}
	c := slices.Max(b.Categories)
	switch {
	case c <= 1:
		return 1, "category 1 (technical) is the highest reached: simple data (ENISA base 1)"
	case c == 2:
		return 2, "category 2 (interaction) is the highest reached: how a person uses the product is behavioural data (ENISA base 2)"
	case c == 3:
		return 3, "category 3 (web activity, stored content) is the highest reached: behavioural data raised by one for the detailed profile browsing history or stored content reveals (ENISA base 2, +1 for volume and nature)"
	}
	return 4, "category 4 (highly sensitive) is the highest reached: sensitive data (ENISA base 4)"
}

// eiOf reads the subject kinds reached. A direct identifier (account id,
// e-mail) names the person with no research: maximum. A pseudonymous
// client id does not, but whoever read it may hold or find other data
// keyed by the same id (the product's own account link, a cookie), so
// identification is possible with some effort: limited, not negligible.
func eiOf(b BlastRadius, ok bool) (float64, string) {
	switch {
	case ok && slices.Contains(b.SubjectKinds, "direct"):
		return 1, "a dataset reached identifies people directly (account id or e-mail): maximum (ENISA 1)"
	case ok && slices.Contains(b.SubjectKinds, "pseudonymous"):
		return 0.5, "the datasets reached identify people by a pseudonymous client id only: whoever holds other data keyed by that id can match it to a person, so limited (ENISA 0.5); lower it to negligible (0.25) when the id cannot be linked to anything the reader could hold"
	}
	return 0.5, "not known: no blast radius with subject kinds yet; limited (ENISA 0.5) until known"
}

// confidentialityOf: the monitor's findings are reads by a named
// credential that was not allowed them, which is data disclosed to a
// known number of recipients (+0.25); an unknown number (a public leak)
// is +0.5, which a person sets.
func confidentialityOf(inc store.Incident) (float64, string) {
	switch inc.Source {
	case SourcePolicy:
		return 0.25, "data was read by a credential the policy in force did not allow: disclosed to known recipients (ENISA +0.25); raise to +0.5 if it spread to an unknown number"
	case SourceUnusual:
		return 0.25, "a credential read far more people than its own baseline: disclosed to known recipients at least (ENISA +0.25); raise to +0.5 if it spread to an unknown number"
	case SourceIntegrity:
		return 0.25, "the access log was changed below steward: whoever could write the store could read it (ENISA +0.25); raise to +0.5 if it spread to an unknown number"
	}
	return 0, "opened by hand: steward cannot tell who received the data (ENISA 0: exposed without evidence of unlawful processing); a person sets it"
}

// integrityOf: a break of the access log's chain means entries were
// altered or removed outside steward, and what they said cannot be
// recovered from the log itself.
func integrityOf(inc store.Incident) (float64, string) {
	if inc.Source == SourceIntegrity {
		return 0.5, "the access log's chain does not hold: records were altered or removed below steward and cannot be recovered from the log (ENISA +0.5)"
	}
	return 0, "no alteration of data is known (the access log's chain holds); raise it when data was changed"
}

// maliciousOf: no source of steward's tells intent; an unusual burst may
// be exfiltration or a misconfigured job, which a person finds out.
func maliciousOf(inc store.Incident) (float64, string) {
	if inc.Source == SourceUnusual {
		return 0, "a burst of reads may be exfiltration or a misconfigured job; steward cannot tell intent: a person sets +0.5 when it was deliberate"
	}
	return 0, "nothing known shows intent to harm; a person sets +0.5 for theft, hacking or selling the data"
}

// Rescore recomputes CB, the score, the level and the proposal from the
// values in force; a person's decision is left as it stands.
func (s *Severity) Rescore() {
	s.CB.Total = s.CB.Confidentiality.Value + s.CB.Integrity.Value + s.CB.Availability.Value + s.CB.Malicious.Value
	s.Score = s.DPC.Value*s.EI.Value + s.CB.Total
	s.Level = LevelOf(s.Score)
	s.Proposed = ProposalOf(s.Level)
}

// Reprice follows new facts: the pre-scores (and the values a person has
// not adjusted) become those of PreScore(inc, b, ok), while every
// adjustment with its reason and the decision stay. The blast radius
// code calls it whenever it stores a new blast radius on an incident
// that has a stored severity (SeverityOf), and stores the result.
func Reprice(sev Severity, inc store.Incident, b BlastRadius, ok bool) Severity {
	p := PreScore(inc, b, ok)
	keep := func(old, fresh Factor) Factor {
		if old.Adjusted {
			fresh.Value, fresh.Adjusted, fresh.Reason, fresh.AdjustedBy = old.Value, true, old.Reason, old.AdjustedBy
		}
		return fresh
	}
	sev.DPC = keep(sev.DPC, p.DPC)
	sev.EI = keep(sev.EI, p.EI)
	sev.CB.Confidentiality = keep(sev.CB.Confidentiality, p.CB.Confidentiality)
	sev.CB.Integrity = keep(sev.CB.Integrity, p.CB.Integrity)
	sev.CB.Availability = keep(sev.CB.Availability, p.CB.Availability)
	sev.CB.Malicious = keep(sev.CB.Malicious, p.CB.Malicious)
	sev.Rescore()
	return sev
}

// Scales are the values each factor may take, by its name in the API.
var Scales = map[string][]float64{
	"dpc": DPCScale, "ei": EIScale,
	"confidentiality": LossScale, "integrity": LossScale, "availability": LossScale,
	"malicious": MaliciousScale,
}

// scaleWords are the allowed values in a refusal, in ENISA's terms.
var scaleWords = map[string]string{
	"dpc":             "1, 2, 3 or 4 (ENISA's data processing context: simple, behavioural, financial, sensitive, adjusted by context)",
	"ei":              "0.25 (negligible), 0.5 (limited), 0.75 (significant) or 1 (maximum)",
	"confidentiality": "0, 0.25 or 0.5",
	"integrity":       "0, 0.25 or 0.5",
	"availability":    "0, 0.25 or 0.5",
	"malicious":       "0 or 0.5",
}

// factorNames in the order a note lists them.
var factorNames = []string{"dpc", "ei", "confidentiality", "integrity", "availability", "malicious"}

func (s *Severity) factor(name string) *Factor {
	switch name {
	case "dpc":
		return &s.DPC
	case "ei":
		return &s.EI
	case "confidentiality":
		return &s.CB.Confidentiality
	case "integrity":
		return &s.CB.Integrity
	case "availability":
		return &s.CB.Availability
	case "malicious":
		return &s.CB.Malicious
	}
	return nil
}

// Summary is one line for the history and the register.
func (s Severity) Summary() string {
	parts := []string{fmt.Sprintf("SE %s = DPC %s × EI %s + CB %s: %s", num(s.Score), num(s.DPC.Value), num(s.EI.Value), num(s.CB.Total), strings.ReplaceAll(s.Level, "_", " "))}
	parts = append(parts, "proposes "+applies(s.Proposed))
	return strings.Join(parts, "; ")
}

func applies(a Applicability) string {
	yes := func(b bool) string {
		if b {
			return "applies"
		}
		return "does not apply"
	}
	return fmt.Sprintf("Art. 33 %s, Art. 34 %s", yes(a.Art33), yes(a.Art34))
}

func num(f float64) string {
	return strings.TrimSuffix(strings.TrimRight(fmt.Sprintf("%.2f", f), "0"), ".")
}

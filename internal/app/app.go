// Package app builds every steward service from the configuration, without
// HTTP: the store, the registry and policy in force, the hashing key, the
// access log, the outbox worker, data subject requests and their
// connectors. `steward serve` adds HTTP on top (package server); the other
// commands use what they need and nothing more.
package app

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/mail"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/steward-privacy/steward/internal/accesslog"
	"github.com/steward-privacy/steward/internal/auth"
	"github.com/steward-privacy/steward/internal/clock"
	"github.com/steward-privacy/steward/internal/config"
	"github.com/steward-privacy/steward/internal/connectors"
	"github.com/steward-privacy/steward/internal/consent"
	"github.com/steward-privacy/steward/internal/erasure"
	"github.com/steward-privacy/steward/internal/incident"
	"github.com/steward-privacy/steward/internal/minimise"
	"github.com/steward-privacy/steward/internal/notice"
	"github.com/steward-privacy/steward/internal/notify"
	"github.com/steward-privacy/steward/internal/policy"
	"github.com/steward-privacy/steward/internal/registry"
	"github.com/steward-privacy/steward/internal/retention"
	"github.com/steward-privacy/steward/internal/review"
	"github.com/steward-privacy/steward/internal/rights"
	"github.com/steward-privacy/steward/internal/store"
	"github.com/steward-privacy/steward/internal/store/backends"
)

// Options are the parts tests replace; zero values mean the real thing.
type Options struct {
	Clock  clock.Clock
	Logger *slog.Logger
	// Serve is set by `steward serve`: it migrates the schema and records
	// the start-up registry file as a version. Other commands only read:
	// they neither change the schema nor publish.
	Serve bool
}

// App is one steward node's services.
type App struct {
	Config *config.Config
	Clock  clock.Clock
	Log    *slog.Logger
	Store  store.Store
	Keyer  *minimise.Keyer
	// Registry is the registry in force; Policy the read policy bound to it.
	Registry *registry.Source
	Policy   *policy.Source
	// Access appends to the chained access log.
	Access *accesslog.Appender
	// Checkpoints signs the log's head and sends it to the witness; the
	// server ticks it and takes a last one at shutdown.
	Checkpoints *accesslog.Checkpointer
	// Notify delivers the outbox; call its Wake after committing a change
	// that enqueued a message.
	Notify *notify.Worker
	// Mailbox is where e-mail goes when no SMTP server is configured: the
	// local mailbox in the data directory. Nil when mail goes over SMTP.
	Mailbox *notify.Mailbox
	Rights  *rights.Service
	Reviews *review.Service
	// Incidents runs breach incidents; Monitor checks the access log for
	// them.
	Incidents  *incident.Service
	Monitor    *incident.Monitor
	Connectors *connectors.Set
	Sweeper    *retention.Sweeper
	// Erased is this node's copy of the suppression list of erased
	// subjects, which collection checks; Watch keeps it current.
	Erased *erasure.List
	// Notice is the public privacy notice and the records of processing,
	// in the Languages of its message files.
	Notice    *notice.Service
	Languages *notice.Languages
}

// New builds the services. On error nothing is left open.
func New(ctx context.Context, cfg *config.Config, opt Options) (*App, error) {
	a := &App{Config: cfg, Clock: opt.Clock, Log: opt.Logger}
	if a.Clock == nil {
		a.Clock = clock.Real{}
	}
	if a.Log == nil {
		a.Log = slog.New(slog.DiscardHandler)
	}
	// Read and checked before storage is touched: a bad file or SMTP
	// setting stops start-up instead of failing later.
	regYAML, regName, err := registry.ReadFile(cfg.Registry)
	if err != nil {
		return nil, err
	}
	startReg, problems := registry.ParseWith(regYAML, regName, registry.Options{Now: a.Clock.Now(), AllowExpired: true})
	if len(problems) > 0 {
		return nil, &registry.ProblemsError{Source: regName, Problems: problems}
	}
	mail, webhook, err := notify.SendersFromConfig(cfg, a.Clock)
	if err != nil {
		return nil, err
	}
	witness, err := checkpointWitness(cfg)
	if err != nil {
		return nil, err
	}
	if a.Store, err = OpenStore(ctx, cfg, opt.Serve); err != nil {
		return nil, err
	}
	a.Notify = &notify.Worker{Store: a.Store, Clock: a.Clock, Log: a.Log, Mail: mail, Webhook: webhook}
	if box, ok := mail.(*notify.Mailbox); ok {
		a.Mailbox = box
		if opt.Serve {
			dir, _ := filepath.Abs(box.Dir)
			a.Log.Warn("no SMTP server is configured (--smtp-host), so e-mail is not sent: every message is kept in the local mailbox instead; read it with steward mail list and steward mail show, or at /admin/mail",
				"mailbox", dir)
		}
	}
	if err := a.build(ctx, regYAML, regName, startReg, opt.Serve); err != nil {
		a.Close()
		return nil, err
	}
	a.Checkpoints = &accesslog.Checkpointer{Store: a.Store, Key: accesslog.CheckpointKey(a.Keyer), Clock: a.Clock, Witness: witness,
		Every: cfg.CheckpointEvery, AfterEntries: cfg.CheckpointEntries, Wake: a.Notify.Wake, Log: a.Log}
	if opt.Serve && (cfg.CheckpointEvery > 0 || cfg.CheckpointEntries > 0) {
		switch {
		case witness == accesslog.Witness{}:
			a.Log.Warn("access log: checkpoints are signed and stored but sent to no witness; whoever can write the database can delete them with the log's rewrite (set --checkpoint-email or --checkpoint-webhook)")
		case witness.Email != "" && cfg.SMTP.Host == "":
			a.Log.Warn("access log: --checkpoint-email is set but no SMTP server is, so the checkpoint e-mails stay in the local mailbox on this machine, which is no witness (set --smtp-host)")
		}
	}
	return a, nil
}

// checkpointWitness reads where checkpoints go. A misspelt witness would
// leave every checkpoint inside the database it is meant to check, so it
// stops start-up.
func checkpointWitness(cfg *config.Config) (accesslog.Witness, error) {
	w := accesslog.Witness{Email: strings.TrimSpace(cfg.CheckpointEmail), Webhook: cfg.CheckpointWebhook}
	if cfg.CheckpointEvery < 0 || cfg.CheckpointEntries < 0 {
		return w, errors.New("--checkpoint-every and --checkpoint-entries must not be negative (0 turns them off)")
	}
	if w.Email != "" {
		if a, err := mail.ParseAddress(w.Email); err != nil || a.Address != w.Email {
			return w, errors.New("--checkpoint-email: give one plain e-mail address, e.g. auditor@example.org")
		}
	}
	if w.Webhook != "" {
		if _, ok := cfg.Webhooks[w.Webhook]; !ok {
			return w, fmt.Errorf("--checkpoint-webhook: no webhook named %q under webhooks: in the config file", w.Webhook)
		}
	}
	return w, nil
}

// build makes the services that need the store, in the order each needs
// the one before.
func (a *App) build(ctx context.Context, regYAML []byte, regName string, startReg *registry.Registry, serve bool) error {
	var err error
	if a.Keyer, err = LoadKey(ctx, a.Config, a.Store, serve, a.Log); err != nil {
		return err
	}
	// Seals the links in queued mail under a key derived from the hashing
	// key, which every node sharing the database has (LoadKey checks).
	a.Notify.Sealer = notify.NewSealer(a.Keyer)
	a.Registry = registry.NewSource(a.Store, func() time.Time { return a.Clock.Now() }, a.Log)
	if a.Policy, err = policy.LoadSource(a.Config.Policy, a.Config.Registry == "", startReg, a.Registry, a.Log); err != nil {
		return err
	}
	a.Registry.Check(a.Policy.Check)
	if err := a.loadRegistry(ctx, regYAML, regName, startReg, serve); err != nil {
		return err
	}
	a.Erased = erasure.New(a.Store, a.Registry, a.Clock.Now, a.Log)
	if serve {
		// Loaded before the first event is taken, so a restarted node
		// never collects a subject erased while it was down.
		if _, err := a.Erased.Refresh(ctx); err != nil {
			return fmt.Errorf("suppression list: %w", err)
		}
	}
	a.Access = accesslog.NewAppender(a.Store, a.Log)
	a.Sweeper = &retention.Sweeper{Registry: a.Registry, Store: a.Store, Erased: a.Erased, Clock: a.Clock, Log: a.Log, Every: a.Config.RetentionEvery}
	if err := a.buildRights(); err != nil {
		return err
	}
	if err := a.buildNotice(); err != nil {
		return err
	}
	if err := a.buildReviews(); err != nil {
		return err
	}
	a.buildIncidents()
	if serve {
		return a.proposeStartFile(ctx, regYAML, regName)
	}
	return nil
}

// buildReviews assembles the data collection review.
func (a *App) buildReviews() error {
	cfg := a.Config
	if cfg.ReviewWebhook != "" {
		if _, ok := cfg.Webhooks[cfg.ReviewWebhook]; !ok {
			return fmt.Errorf("--review-webhook: no webhook named %q under webhooks: in the config file", cfg.ReviewWebhook)
		}
	}
	days := cfg.ExpiryNoticeDays
	if days <= 0 {
		days = 14
	}
	// The opt-out signals collection honours, from the one table that
	// collection and the notice read too.
	words := map[string]string{consent.OptOut: "the opt-out cookie (POST /v1/opt-out, the SDK's optOut())",
		consent.DNT: "Do Not Track (DNT: 1)", consent.GPC: "Global Privacy Control (Sec-GPC: 1)"}
	env := review.Environment{NoticeURL: PublicURL(cfg) + "/privacy"}
	for _, sig := range consent.Honoured() {
		w := words[sig]
		if w == "" {
			w = sig
		}
		env.OptOut = append(env.OptOut, w)
	}
	a.Reviews = &review.Service{Store: a.Store, Registry: a.Registry, Env: env, Clock: a.Clock, Log: a.Log, PublicURL: PublicURL(cfg),
		Webhook: cfg.ReviewWebhook, ExpiryNotice: time.Duration(days) * 24 * time.Hour, Wake: a.Notify.Wake,
		NoticeDiff: a.noticeDiff}
	return nil
}

// noticeDiff compares the public notice generated from two registries
// with the deployment's policy, connectors and consent settings, in plain
// English words: a non-empty answer means legal/trust must sign. A notice
// that cannot be built counts as changed, so the review fails safe.
func (a *App) noticeDiff(before, after *registry.Registry) []string {
	nb, err := a.Notice.Build(before)
	if err != nil {
		return []string{"the notice before the change cannot be built: " + err.Error()}
	}
	na, err := a.Notice.Build(after)
	if err != nil {
		return []string{"the notice after the change cannot be built: " + err.Error()}
	}
	words := a.Languages.Get("en")
	var out []string
	for _, c := range notice.Diff(nb, na) {
		out = append(out, words.Change(c))
	}
	return out
}

// proposeStartFile turns a start-up registry file that differs from the
// approved version into a proposal: nothing is approved silently. With
// --approve-registry REASON the operator approves it alone, and every
// record says it was an override.
func (a *App) proposeStartFile(ctx context.Context, data []byte, name string) error {
	if a.Registry.Version() > 0 && registry.Digest(data) == a.Registry.Current().Digest() {
		return nil
	}
	if a.Config.Registry == "" && a.Registry.Version() > 0 {
		// Started without --registry over a database that has its own
		// approved registry: that registry stays in force.
		return nil
	}
	open, err := a.Store.ListProposals(ctx, store.ProposalQuery{States: []string{string(review.Draft), string(review.InReview), string(review.Escalated)}, Limit: 1000})
	if err != nil {
		return err
	}
	var p store.Proposal
	for _, o := range open {
		if o.Digest == registry.Digest(data) {
			p = o
			break
		}
	}
	if p.ID == 0 {
		operator := review.Actor{ID: review.Operator, Role: auth.Admin}
		p, err = a.Reviews.Propose(ctx, operator, review.Input{YAML: data, Name: name, Title: "registry file given at start-up: " + name}, false)
		if errors.Is(err, review.ErrNoChange) {
			return nil
		}
		if err != nil {
			return err
		}
	}
	if reason := strings.TrimSpace(a.Config.ApproveRegistry); reason != "" {
		if p, err = a.Reviews.Override(ctx, p.ID, reason); err != nil {
			return err
		}
		a.Log.Warn("registry: the start-up file was approved by operator override, without review", "proposal", p.ID, "version", p.Published, "reason", reason)
		return nil
	}
	a.Log.Warn("registry: the start-up file differs from the approved registry; it is a proposal and is not collected until approved (or start with --approve-registry REASON)",
		"proposal", p.ID, "state", p.State, "from", name, "approved_version", a.Registry.Version())
	return nil
}

// Close stops the access log's writer and closes the connectors and the
// store. The outbox worker is stopped by whoever started it.
func (a *App) Close() {
	if a.Access != nil {
		a.Access.Close()
	}
	if a.Connectors != nil {
		a.Connectors.Close()
	}
	if a.Store != nil {
		a.Store.Close()
	}
}

// OpenStore opens the configured store. With migrate the schema is brought
// up to date; without, a schema that is not exactly this binary's is
// refused with one line that says what to run.
func OpenStore(ctx context.Context, cfg *config.Config, migrate bool) (store.Store, error) {
	st, err := backends.Open(ctx, cfg.DB, cfg.DataDir, migrate)
	if err != nil {
		return nil, err
	}
	if migrate {
		if _, err := st.Migrate(ctx); err != nil {
			st.Close()
			if errors.Is(err, store.ErrSchemaTooNew) {
				return nil, err // already says what to do
			}
			return nil, fmt.Errorf("migrate: %w", err)
		}
		return st, nil
	}
	if err := schemaCurrent(ctx, st); err != nil {
		st.Close()
		return nil, err
	}
	return st, nil
}

func schemaCurrent(ctx context.Context, st store.Store) error {
	ms, err := st.MigrationStatus(ctx)
	if err != nil {
		return err
	}
	var pending []string
	for _, m := range ms {
		if !m.Applied && !m.Baseline {
			pending = append(pending, m.ID())
		}
	}
	switch {
	case len(pending) == 0:
		return nil
	case len(pending) == len(ms):
		return errors.New("the database has no steward schema yet; run steward migrate (or steward serve) with the same --data or --db first")
	}
	return fmt.Errorf("the database needs %d migration(s) this steward brings (%s); run steward migrate first", len(pending), strings.Join(pending, ", "))
}

// loadRegistry puts a registry in force. serve records the start-up file as
// a version when it differs from the newest one (an operator's file is
// approved by the operator); the other commands read the newest version,
// or the file when the store has none yet.
func (a *App) loadRegistry(ctx context.Context, data []byte, name string, startReg *registry.Registry, serve bool) error {
	_, err := a.Registry.Refresh(ctx)
	switch {
	case err == nil:
	case !errors.Is(err, store.ErrNotFound):
		return err
	case serve && a.Config.Registry == "":
		// The built-in example ships approved, so the two-command start
		// collects at once.
		v, _, err := a.Registry.Publish(ctx, data, name, registry.Approval{By: "built-in example", Note: "the example registry built into steward, approved as shipped"})
		if err != nil {
			return err
		}
		a.Log.Info("registry: stored the built-in example as the first approved version", "version", v.Version)
	case serve:
		// Nothing is approved yet: collect nothing until the start-up file's
		// proposal is (proposeStartFile).
		a.Registry.UseUnstored(registry.Empty(startReg.Controller))
	default:
		a.Registry.UseUnstored(startReg)
	}
	for _, d := range a.Registry.Current().Datasets {
		if d.Expired(a.Clock.Now()) {
			a.Log.Warn("dataset has expired and will answer 410", "dataset", d.Name, "expired", d.Expires.Format(time.DateOnly))
		}
	}
	return nil
}

// buildRights assembles data subject requests: the rules and the
// connectors that erase and export.
func (a *App) buildRights() error {
	cfg := a.Config
	rc := rights.DefaultConfig(PublicURL(cfg))
	rc.ExportDir = filepath.Join(cfg.DataDir, "exports")
	poll := cfg.ErasurePoll
	if poll <= 0 {
		poll = erasure.DefaultPollEvery
	}
	events := &connectors.Events{Store: a.Store, Keyer: a.Keyer, Registry: a.Registry, Erased: a.Erased, Settle: 2 * poll, Clock: a.Clock}
	set, err := connectors.Load(cfg.Rights, &rc, events)
	if err != nil {
		return err
	}
	a.Connectors = set
	a.Rights = &rights.Service{Store: a.Store, Keyer: a.Keyer, Clock: a.Clock, Log: a.Log, Config: rc,
		Identity: set.Identity, Connectors: set.List, Wake: a.Notify.Wake, Sealer: a.Notify.Sealer}
	return nil
}

// PublicURL is how people reach steward, for links in e-mails.
func PublicURL(cfg *config.Config) string {
	if public := strings.TrimSuffix(cfg.PublicURL, "/"); public != "" {
		return public
	}
	return "http://" + cfg.Addr
}

// LoadKey reads the hashing key and makes sure every node sharing the
// database uses the same one: subject keys hashed under different keys
// would make erasure miss rows.
// Only create (serve) makes a new key file when there is none.
func LoadKey(ctx context.Context, cfg *config.Config, st store.Settings, create bool, log *slog.Logger) (*minimise.Keyer, error) {
	var key []byte
	var err error
	switch {
	case cfg.Secret != "":
		key, err = minimise.KeyFromString(cfg.Secret)
		if err != nil {
			return nil, fmt.Errorf("the hashing key (STEWARD_SECRET or the config file's secret:): %w", err)
		}
	case cfg.SecretFile != "":
		// A named key file is never created: a missing one is a mount or
		// a path gone wrong, and a new key would hash everyone anew.
		key, err = minimise.LoadKey(cfg.SecretFile)
		if err != nil {
			return nil, fmt.Errorf("--secret-file: %w", err)
		}
	default:
		path := filepath.Join(cfg.DataDir, "secret.key")
		var created bool
		if create {
			key, created, err = minimise.LoadOrCreateKey(path)
		} else {
			key, err = minimise.LoadKey(path)
		}
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("%w; point this command at steward's data with --data, STEWARD_DATA or --config, or give the key with --secret-file or STEWARD_SECRET", err)
		}
		if err != nil {
			return nil, err
		}
		if created {
			log.Info("created a new hashing key; back it up, and give the same key to every node sharing the database", "path", path)
		}
	}
	k, err := minimise.NewKeyer(key)
	if err != nil {
		return nil, err
	}
	have, err := st.SetSettingIfAbsent(ctx, "hashing_key_fingerprint", k.Fingerprint())
	if err != nil {
		return nil, err
	}
	if have != k.Fingerprint() {
		return nil, errors.New("this node's hashing key differs from the one the database was first used with; give every node the same key (secret.key, --secret-file or STEWARD_SECRET)")
	}
	return k, nil
}

// buildIncidents assembles the breach engine. The monitor's lease holder
// is random per process, so a restarted node waits for its own old lease
// like any other node would.
func (a *App) buildIncidents() {
	cfg := a.Config
	var emails []string
	for _, e := range strings.Split(cfg.IncidentEmail, ",") {
		if e = strings.TrimSpace(e); e != "" {
			emails = append(emails, e)
		}
	}
	obligations := incident.DefaultObligations
	if cfg.ControllerNotice > 0 {
		obligations = append(slices.Clone(obligations), incident.Obligation{Name: "controller", Start: incident.FromLeak,
			MaxNP: cfg.ControllerNotice, Done: "owner_notified"})
	}
	a.Incidents = &incident.Service{Store: a.Store, Registry: a.Registry, Clock: a.Clock, Log: a.Log, ManagerEmails: emails,
		Obligations: obligations, PublicURL: PublicURL(cfg), Wake: a.Notify.Wake, Keyer: a.Keyer}
	a.Monitor = &incident.Monitor{Service: a.Incidents, Policy: a.Policy, Holder: rand.Text(), PerHour: cfg.MonitorPerHour,
		Batch: cfg.MonitorBatch}
	if a.Access != nil {
		a.Access.OnCommit(a.Monitor.Wake)
	}
}

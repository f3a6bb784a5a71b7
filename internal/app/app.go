// Package app composes the application from app settings: state, queue,
// Dataverse client, destinations, poller, applier and the handler server.
// cmd/dataexport and the end-to-end tests build it the same way.
package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"math"
	"net"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/Azure/azure-sdk-for-go/sdk/azcore"
	"github.com/Azure/azure-sdk-for-go/sdk/storage/azqueue"

	"github.com/dataexport/dataexport/handlers"
	"github.com/dataexport/dataexport/internal/apiauth"
	"github.com/dataexport/dataexport/internal/claims"
	"github.com/dataexport/dataexport/internal/dataverse"
	"github.com/dataexport/dataexport/internal/destination"
	"github.com/dataexport/dataexport/internal/failures"
	"github.com/dataexport/dataexport/internal/funchost"
	"github.com/dataexport/dataexport/internal/manage"
	"github.com/dataexport/dataexport/internal/metrics"
	"github.com/dataexport/dataexport/internal/profile"
	"github.com/dataexport/dataexport/internal/queue"
	"github.com/dataexport/dataexport/internal/recovery"
	"github.com/dataexport/dataexport/internal/secrets"
	"github.com/dataexport/dataexport/internal/settings"
	"github.com/dataexport/dataexport/internal/state"
	dsync "github.com/dataexport/dataexport/internal/sync"
)

// AzuriteConnection is the well-known Azurite account, which
// "UseDevelopmentStorage=true" stands for.
const AzuriteConnection = "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/KBHBeksoGMGw==;BlobEndpoint=http://127.0.0.1:10000/devstoreaccount1;QueueEndpoint=http://127.0.0.1:10001/devstoreaccount1;TableEndpoint=http://127.0.0.1:10002/devstoreaccount1;"

// StorageConnection resolves a storage connection setting's value.
func StorageConnection(v string) string {
	if strings.EqualFold(strings.TrimSpace(strings.TrimSuffix(v, ";")), "UseDevelopmentStorage=true") {
		return AzuriteConnection
	}
	return v
}

// App is the composed application: everything the handlers call.
type App struct {
	Store *state.Store
	// Queue is the Storage queue between poller and applier; nil when
	// QUEUE_TRANSPORT=servicebus.
	Queue    *queue.StorageQueue
	Source   *dataverse.Client
	Pool     *destination.Pool
	Failures *failures.Store
	Secrets  *secrets.Resolver
	// Claims holds the pages that travel as units in Blob storage.
	Claims  *claims.Store
	Poller  *dsync.Poller
	Applier *dsync.Applier
	// SchemaChanger creates and evolves the entities' tables (the
	// SchemaChange function).
	SchemaChanger *dsync.SchemaChanger
	// Manage is the management service: the CLI, the HTTP functions and
	// the web UI call it for every profile operation.
	Manage  *manage.Service
	Handler http.Handler
	// Counters batches the applier's counter increments (one Table storage
	// write per entity per second instead of per message).
	Counters *state.BatchedCounters
	// Metrics keeps the per-minute activity the web UI draws; Recorder
	// fills it from the applier's counters, in front of Counters.
	Metrics  *metrics.Store
	Recorder *metrics.Recorder

	handlerOptions handlers.Options
	auth           *apiauth.Authenticator
}

// Close writes the pending metrics and counters and closes the
// destinations. The recorder goes first: it passes every increment on to
// the counters, so once it is closed nothing more reaches them.
func (c *App) Close() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Recorder.Close(ctx); err != nil {
		slog.Warn("writing the last metrics failed", "err", err)
	}
	if err := c.Counters.Close(ctx); err != nil {
		slog.Warn("writing the last counters failed", "err", err)
	}
	c.Pool.Close()
}

// Build composes the application from app settings. Storage is reached with
// the AzureWebJobsStorage connection string or, without one, with its
// identity-based form (see ResolveStorage); the poller sends to the Storage
// queue or to Service Bus as QUEUE_TRANSPORT says.
func Build(ctx context.Context, s *settings.Settings, log *slog.Logger) (*App, error) {
	cfg, err := loadConfig(s)
	if err != nil {
		return nil, err
	}
	clients, err := cfg.storage.Clients()
	if err != nil {
		return nil, err
	}
	store, err := state.NewStore(ctx, clients.Tables, &state.Options{ProfilesTable: s.Get("STATE_PROFILES_TABLE"), EntitiesTable: s.Get("STATE_ENTITIES_TABLE")})
	if err != nil {
		return nil, fmt.Errorf("opening state tables: %w", err)
	}
	// The Storage queue is opened (and created) only when it is the transport.
	var q *queue.StorageQueue
	if cfg.transport == TransportStorage {
		if q, err = openQueue(ctx, clients.Queues, cfg.queueName); err != nil {
			return nil, err
		}
	}
	fails, err := failures.NewStore(clients.Blobs, &failures.Options{ContainerPrefix: s.Get("FAILURES_CONTAINER_PREFIX")})
	if err != nil {
		return nil, fmt.Errorf("app setting FAILURES_CONTAINER_PREFIX: %w", err)
	}
	keep, err := retention(s)
	if err != nil {
		return nil, err
	}
	cred, err := dataverseCredential(s)
	if err != nil {
		return nil, err
	}
	src, err := dataverseClient(s, cred)
	if err != nil {
		return nil, err
	}
	// Key Vault is read with the app's identity, the one Dataverse knows:
	// in Azure the managed identity, which Bicep makes a Key Vault Secrets
	// User of the vault.
	resolver := secrets.New(cred, &secrets.Options{AllowLoopback: cfg.localDevelopment})
	// host.json's queue settings (maxDequeueCount) decide when the applier
	// keeps failed records: a missing file means the host's defaults, a
	// broken one is an error rather than a silent fallback.
	hostCfg := funchost.DefaultHostConfig()
	hostPath := s.Or("HOST_JSON", "host.json")
	if c, err := funchost.LoadHostJSON(hostPath); err == nil {
		hostCfg = c
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("app setting HOST_JSON (%s): %w", hostPath, err)
	}
	out, err := recordsSender(ctx, s, q)
	if err != nil {
		return nil, err
	}
	claimStore, err := claims.NewStore(clients.Blobs, claims.DefaultContainer)
	if err != nil {
		return nil, fmt.Errorf("claim-check blobs: %w", err)
	}
	pool := destination.New(&destination.Options{Logger: log, Secrets: resolver})
	// Poller and applier share one budget of pages in memory.
	pages := dsync.NewPageBudget(dsync.DefaultPageBudget)
	schemas := dsync.NewSchemaChanger(src, store, store, pool, fails, &dsync.SchemaChangeOptions{Logger: log})
	poller := dsync.NewPoller(src, store, store, pool, out, &dsync.PollerOptions{Logger: log, Claims: claimStore, Pages: pages, NewTables: schemas})
	// Retries go back through the queue after the profile's interval (both
	// transports can delay a message).
	requeue, _ := out.(dsync.Requeuer)
	// The web UI's charts: each entity's activity per minute. The recorder
	// sees every increment the applier makes (each message's lag counts in
	// its minute's maximum) and passes it on to the batched counters; it
	// writes each entity's minute once, the counters once a second.
	met, err := metrics.NewStore(ctx, clients.Tables, s.Get("STATE_METRICS_TABLE"))
	if err != nil {
		return nil, fmt.Errorf("app setting STATE_METRICS_TABLE: %w", err)
	}
	counters := state.NewBatchedCounters(store, state.DefaultCounterInterval, log)
	recorder := metrics.NewRecorder(counters, met, &metrics.RecorderOptions{Logger: log})
	applier := dsync.NewApplier(store, pool, recorder, fails, &dsync.ApplierOptions{Logger: log, Claims: claimStore, Pages: pages, Requeue: requeue, MaxDequeueCount: hostCfg.Queues.MaxDequeueCount, Tables: store})
	// The trigger binding names, from the function.json files beside
	// host.json (Azure: the app root) or in functions/ (this repository).
	var bindings map[string]string
	for _, dir := range []string{filepath.Join(filepath.Dir(hostPath), "functions"), filepath.Dir(hostPath)} {
		b, err := handlers.LoadTriggerBindings(dir)
		if err != nil {
			return nil, fmt.Errorf("function.json files in %s: %w", dir, err)
		}
		if len(b) > 0 {
			bindings = b
			break
		}
	}
	svc := manage.New(manage.Deps{
		Profiles: store, States: store, Failures: fails, Secrets: resolver, Source: src,
		Destinations: pool, Checker: destinationChecker{log}, Metrics: met, Counts: src,
		Recovery: recovery.New(recovery.Deps{Failures: fails, Source: src, Destinations: pool, Entities: store, Counters: store}, &recovery.Options{Logger: log}),
	}, &manage.Options{Policy: profile.Policy{LocalDevelopment: cfg.localDevelopment}, Logger: log})
	ho := handlers.Options{
		Poller:  &prunedPoller{Poller: poller, fails: fails, retention: keep, log: log, now: time.Now},
		Applier: applier, SchemaChanger: schemas, Manager: svc, Logger: log, Bindings: bindings, Front: UIFront(s),
	}
	return &App{
		Store: store, Queue: q, Source: src, Pool: pool, Failures: fails, Secrets: resolver, Poller: poller, Applier: applier, SchemaChanger: schemas, Manage: svc,
		Counters: counters, Claims: claimStore, Metrics: met, Recorder: recorder,
		Handler: handlers.New(ho), handlerOptions: ho,
	}, nil
}

// UIFront is what names the web UI's callers under dataexport serve: App
// Service Authentication when the platform says it is on
// (WEBSITE_AUTH_ENABLED=True, which App Service sets itself), else nothing,
// and the web UI refuses every call (the API's functions are the host's
// keys' to guard). StartLocal puts the standalone host's sign-in in front
// instead.
func UIFront(s *settings.Settings) handlers.Front {
	if strings.EqualFold(strings.TrimSpace(s.Get("WEBSITE_AUTH_ENABLED")), "true") {
		return handlers.FrontEasyAuth
	}
	return handlers.FrontNone
}

// OpenStorageQueue opens (creating if needed) a Storage queue and its poison
// sibling, on the account of a connection string.
func OpenStorageQueue(ctx context.Context, conn, name string) (*queue.StorageQueue, error) {
	svc, err := azqueue.NewServiceClientFromConnectionString(conn, nil)
	if err != nil {
		return nil, fmt.Errorf("queue %s: %w", name, err)
	}
	return openQueue(ctx, svc, name)
}

func openQueue(ctx context.Context, svc *azqueue.ServiceClient, name string) (*queue.StorageQueue, error) {
	q, err := queue.OpenStorageQueue(ctx, svc, name)
	if err != nil {
		return nil, fmt.Errorf("opening queue %s: %w", name, err)
	}
	return q, nil
}

// destinationChecker is the management service's DestinationChecker.
type destinationChecker struct{ log *slog.Logger }

func (c destinationChecker) CheckDestination(ctx context.Context, p profile.Profile) manage.DestinationCheck {
	r := destination.Check(ctx, p, c.log)
	return manage.DestinationCheck{Reachable: r.Reachable, Missing: r.Missing, PermissionsErr: r.PermissionsErr, PermissionsNote: r.PermissionsNote}
}

// dataverseCredential is the app's credential, chosen by DATAVERSE_AUTH
// (clientsecret, certificate, managedidentity, workloadidentity, static,
// default) or inferred: DATAVERSE_TOKEN (a static bearer token: the
// emulator), then AZURE_CLIENT_SECRET, then AZURE_CLIENT_CERTIFICATE_PATH,
// else managed identity. Dataverse and Key Vault are read with it.
func dataverseCredential(s *settings.Settings) (azcore.TokenCredential, error) {
	cred, err := dataverse.NewCredential(dataverse.AuthSettings{
		Method:              dataverse.AuthMethod(s.Get("DATAVERSE_AUTH")),
		Token:               s.Get("DATAVERSE_TOKEN"),
		TenantID:            s.Get("AZURE_TENANT_ID"),
		ClientID:            s.Get("AZURE_CLIENT_ID"),
		ClientSecret:        s.Get("AZURE_CLIENT_SECRET"),
		CertificatePath:     s.Get("AZURE_CLIENT_CERTIFICATE_PATH"),
		CertificatePassword: s.Get("AZURE_CLIENT_CERTIFICATE_PASSWORD"),
		TokenFilePath:       s.Get("AZURE_FEDERATED_TOKEN_FILE"),
	})
	if err != nil {
		return nil, fmt.Errorf("Dataverse credential: %w", err)
	}
	return cred, nil
}

// dataverseClient builds the Web API client.
func dataverseClient(s *settings.Settings, cred azcore.TokenCredential) (*dataverse.Client, error) {
	org := s.Get("DATAVERSE_URL")
	if org == "" {
		return nil, errors.New("app setting DATAVERSE_URL is not set")
	}
	// A function invocation must not sleep for minutes: a longer
	// Retry-After ends this poll of the entity (nothing is checkpointed) and
	// the next timer tick resumes it. Worst case per request: 5 × 30 s.
	o := dataverse.ClientOptions{MaxRetryAfter: 30 * time.Second, MaxRetries: 5}
	if v := s.Get("DATAVERSE_REQUESTS_PER_SECOND"); v != "" {
		r, err := strconv.ParseFloat(v, 64)
		if err != nil || r == 0 || math.IsNaN(r) || math.IsInf(r, 0) {
			return nil, fmt.Errorf("app setting DATAVERSE_REQUESTS_PER_SECOND: %q is not a rate (requests per second; negative = unlimited)", v)
		}
		o.RequestsPerSecond = r
	}
	if v := s.Get("DATAVERSE_PAGE_SIZE"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 5000 {
			return nil, fmt.Errorf("app setting DATAVERSE_PAGE_SIZE: %q is not a page size between 1 and 5000", v)
		}
		o.PageSize = n
	}
	c, err := dataverse.NewClient(org, cred, &o)
	if err != nil {
		return nil, fmt.Errorf("DATAVERSE_URL: %w", err)
	}
	return c, nil
}

// APIAuth is how the standalone host checks management API calls:
// ADMIN_API_KEY, or Entra ID tokens of ADMIN_ENTRA_TENANT_ID for
// ADMIN_ENTRA_AUDIENCE (ADMIN_ENTRA_AUTHORITY: another sign-in host).
// Neither set: not Enabled, and the API is refused.
func APIAuth(s *settings.Settings) (*apiauth.Authenticator, error) {
	return apiauth.New(apiauth.Options{
		Key:       s.Get("ADMIN_API_KEY"),
		TenantID:  s.Get("ADMIN_ENTRA_TENANT_ID"),
		Audience:  s.Get("ADMIN_ENTRA_AUDIENCE"),
		Authority: s.Get("ADMIN_ENTRA_AUTHORITY"),
	})
}

// StartLocal serves the handler on a loopback port and builds a standalone
// Functions host pointed at it, from the function.json files in functionsDir
// and the host.json at hostJSON; the host serves the HTTP functions
// (Host.ServeHTTP): the API's behind APIAuth's key or token check, the web
// UI's to the callers its login form's session names (see Front). stop
// shuts the handler server down.
func (c *App) StartLocal(ctx context.Context, s *settings.Settings, functionsDir, hostJSON string, log *slog.Logger) (h *funchost.Host, handlerURL string, stop func(), err error) {
	fns, err := funchost.LoadFunctions(functionsDir)
	if err != nil {
		return nil, "", nil, err
	}
	cfg, err := funchost.LoadHostJSON(hostJSON)
	if err != nil {
		return nil, "", nil, fmt.Errorf("host.json: %w", err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, "", nil, err
	}
	// The standalone host signs callers in (APIAuth), so the handler takes
	// the principal it sets.
	c.handlerOptions.Front = handlers.FrontStandalone
	c.Handler = handlers.New(c.handlerOptions)
	srv := &http.Server{Handler: c.Handler, ReadHeaderTimeout: 10 * time.Second}
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = srv.Serve(ln)
	}()
	stop = func() {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
		<-done
	}
	handlerURL = "http://" + ln.Addr().String()
	auth, err := APIAuth(s)
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	c.auth = auth
	ho := funchost.Options{
		HandlerURL: handlerURL,
		Functions:  fns,
		Config:     cfg,
		Settings:   s,
		OpenQueue: func(ctx context.Context, connection, name string) (funchost.Queue, error) {
			return OpenStorageQueue(ctx, StorageConnection(connection), name)
		},
		Logger:            log,
		APIDisabledReason: "the management API is disabled because no credential is configured: " + apiauth.SettingHelp,
	}
	if auth.Enabled() {
		// The API's routes (authLevel function): the admin key or an Entra
		// ID token, as the host takes its function keys.
		ho.Authorize = func(r *http.Request) error {
			p, err := auth.Authenticate(r)
			if err != nil {
				return err
			}
			setPrincipal(r.Header, p)
			log.Debug("management API call", "method", r.Method, "path", r.URL.Path, "auth", p.Method, "principal", p.Name)
			return nil
		}
		// App Service Authentication's part: the login form's session
		// names the caller to the web UI's function (authLevel anonymous),
		// which refuses calls without one.
		ho.Identify = func(r *http.Request) {
			if p, err := auth.Session(r); err == nil {
				setPrincipal(r.Header, p)
			}
		}
	}
	h, err = funchost.New(ctx, ho)
	if err != nil {
		stop()
		return nil, "", nil, err
	}
	return h, handlerURL, stop, nil
}

// setPrincipal sets the headers App Service Authentication would set for
// p: the name, id and identity provider (aad for Entra ID, key for the
// admin key).
func setPrincipal(h http.Header, p apiauth.Principal) {
	name, idp := p.Name, "aad"
	if p.Method == "key" {
		name, idp = "admin key", "key"
	}
	h.Set(handlers.PrincipalNameHeader, name)
	h.Set(handlers.PrincipalIDPHeader, idp)
	if p.ID != "" {
		h.Set(handlers.PrincipalIDHeader, p.ID)
	}
}

// Front is the standalone host's HTTP front for dataexport run: the
// sign-in (/.auth/login, /.auth/logout, the login form for a browser
// without a session) in front of the host's HTTP functions. Call it after
// StartLocal, whose sessions it shares.
func (c *App) Front(h http.Handler) http.Handler {
	if c.auth == nil {
		return h
	}
	return c.auth.LoginFront(h, handlers.UIPath, handlers.UIAPIPath)
}

var _ funchost.Queue = (*queue.StorageQueue)(nil)

// recordsSender is where the poller puts its messages: the Storage queue
// (QUEUE_TRANSPORT=storage, the default and the only one that runs locally)
// or Service Bus (QUEUE_TRANSPORT=servicebus: ServiceBusConnection holds a
// connection string, or ServiceBusConnection__fullyQualifiedNamespace names
// the namespace for an Entra ID credential, see resolveServiceBus).
func recordsSender(ctx context.Context, s *settings.Settings, storage *queue.StorageQueue) (dsync.Sender, error) {
	t, err := queueTransport(s)
	if err != nil {
		return nil, err
	}
	if t == TransportStorage {
		if storage == nil {
			return nil, errors.New("QUEUE_TRANSPORT=storage: the Storage queue is not open")
		}
		return storage, nil
	}
	cfg, err := resolveServiceBus(s)
	if err != nil {
		return nil, err
	}
	client, err := cfg.client()
	if err != nil {
		return nil, err
	}
	name := s.Or("RECORDS_QUEUE", "records")
	sender, err := client.NewSender(name, nil)
	if err != nil {
		return nil, fmt.Errorf("Service Bus sender for queue %s (RECORDS_QUEUE): %w", name, err)
	}
	return queue.NewServiceBusSender(sender, nil)
}

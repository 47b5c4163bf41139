//go:build linux

package discovery_test

import (
	"context"
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gotp-dev/gotp/actor"
	"github.com/gotp-dev/gotp/cets/discovery"
	_ "github.com/lib/pq"
)

// pgBinDir finds PostgreSQL's programs: $GOTP_PG_BIN, or the newest of
// Debian's /usr/lib/postgresql/<version>/bin (postgresql-15 on bookworm).
func pgBinDir() (string, error) {
	if dir := os.Getenv("GOTP_PG_BIN"); dir != "" {
		return dir, nil
	}
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	best, bestVersion := "", -1
	for _, d := range dirs {
		v, err := strconv.Atoi(filepath.Base(filepath.Dir(d)))
		if err == nil && v > bestVersion {
			if _, err := os.Stat(filepath.Join(d, "postgres")); err == nil {
				best, bestVersion = d, v
			}
		}
	}
	if best == "" {
		return "", fmt.Errorf("no PostgreSQL server under /usr/lib/postgresql (apt-get install postgresql-15, or set GOTP_PG_BIN)")
	}
	return best, nil
}

// postgres is one PostgreSQL server for the package's tests, started on
// first use in a temporary directory (listening on a unix socket only) and
// stopped by TestMain.
var postgres struct {
	once sync.Once
	dir  string
	cmd  *exec.Cmd
	db   *sql.DB
	skip string
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopPostgres()
	os.Exit(code)
}

func stopPostgres() {
	if postgres.db != nil {
		postgres.db.Close()
	}
	if postgres.cmd != nil && postgres.cmd.Process != nil {
		_ = postgres.cmd.Process.Signal(os.Interrupt) // fast shutdown
		done := make(chan struct{})
		go func() { _ = postgres.cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = postgres.cmd.Process.Kill()
			<-done
		}
	}
	if postgres.dir != "" {
		os.RemoveAll(postgres.dir)
	}
}

// pgCred is the unprivileged user PostgreSQL runs as when the tests run as
// root (PostgreSQL refuses to run as root).
var pgCred *syscall.Credential

// asPostgresUser makes a command that runs as pgCred, and is killed if the
// test binary dies first.
func asPostgresUser(name string, args ...string) *exec.Cmd {
	cmd := exec.Command(name, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: pgCred, Pdeathsig: syscall.SIGKILL}
	return cmd
}

func startPostgres() (string, error) {
	bin, err := pgBinDir()
	if err != nil {
		return "", err
	}
	initdb := filepath.Join(bin, "initdb")
	server := filepath.Join(bin, "postgres")
	dir, err := os.MkdirTemp("", "gotp-discovery-pg-")
	if err != nil {
		return "", err
	}
	postgres.dir = dir
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			return "", fmt.Errorf("running as root and there is no postgres user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		if err := os.Chown(dir, uid, gid); err != nil {
			return "", err
		}
		pgCred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
	}
	data := filepath.Join(dir, "data")
	if out, err := asPostgresUser(initdb, "-D", data, "-U", "postgres", "--auth=trust", "--no-sync", "-E", "UTF8").CombinedOutput(); err != nil {
		return "", fmt.Errorf("initdb: %v: %s", err, out)
	}
	cmd := asPostgresUser(server, "-D", data, "-k", dir, "-c", "listen_addresses=", "-c", "fsync=off", "-p", "5432")
	logFile, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return "", err
	}
	cmd.Stdout, cmd.Stderr = logFile, logFile
	if err := cmd.Start(); err != nil {
		return "", fmt.Errorf("start postgres: %v", err)
	}
	postgres.cmd = cmd
	db, err := sql.Open("postgres", fmt.Sprintf("host=%s port=5432 user=postgres dbname=postgres sslmode=disable", dir))
	if err != nil {
		return "", err
	}
	postgres.db = db
	// The server takes a moment to accept connections; pg_isready-style
	// polling of the socket is the only way to know.
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		err := db.PingContext(ctx)
		cancel()
		if err == nil {
			return "", nil
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "server.log"))
			return "", fmt.Errorf("postgres did not accept connections: %v; log: %s", err, log)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// pgDB returns the test database, or skips the test with the reason it
// cannot run.
func pgDB(t *testing.T) *sql.DB {
	t.Helper()
	postgres.once.Do(func() {
		if skip, err := startPostgres(); err != nil {
			postgres.skip = err.Error()
		} else if skip != "" {
			postgres.skip = skip
		}
	})
	if postgres.skip != "" {
		t.Skipf("SQL backend tests need a PostgreSQL server: %s", postgres.skip)
	}
	return postgres.db
}

var clusterSeq struct {
	sync.Mutex
	n      int
	tables map[*testing.T]string
}

func newCluster(t *testing.T) string {
	clusterSeq.Lock()
	defer clusterSeq.Unlock()
	clusterSeq.n++
	return fmt.Sprintf("%s_%d", strings.ReplaceAll(t.Name(), "/", "_"), clusterSeq.n)
}

// testTable names the discovery table of the running test: every test has
// its own, so that runs (-count) and tests do not see each other's rows.
func testTable(t *testing.T) string {
	clusterSeq.Lock()
	defer clusterSeq.Unlock()
	if clusterSeq.tables == nil {
		clusterSeq.tables = map[*testing.T]string{}
	}
	if tb, ok := clusterSeq.tables[t]; ok {
		return tb
	}
	clusterSeq.n++
	tb := fmt.Sprintf("disco_%d", clusterSeq.n)
	clusterSeq.tables[t] = tb
	return tb
}

// q puts the test's table name in a query written with discovery_nodes.
func q(t *testing.T, query string) string {
	return strings.ReplaceAll(query, "discovery_nodes", testTable(t))
}

func sqlBackend(t *testing.T, db *sql.DB, cluster, node string) *discovery.SQLBackend {
	t.Helper()
	b := &discovery.SQLBackend{DB: db, ClusterName: cluster, CreateSchema: true, Table: testTable(t)}
	if err := b.Init(discovery.BackendInfo{Node: node}); err != nil {
		t.Fatal(err)
	}
	return b
}

func getNames(t *testing.T, b *discovery.SQLBackend) []string {
	t.Helper()
	specs, err := b.GetNodes(t.Context())
	if err != nil {
		t.Fatalf("GetNodes: %v", err)
	}
	return names(specs)
}

func dbNow(t *testing.T, db *sql.DB) int64 {
	var now int64
	if err := db.QueryRowContext(t.Context(), `SELECT CAST(extract(epoch from now()) AS bigint)`).Scan(&now); err != nil {
		t.Fatal(err)
	}
	return now
}

func TestSQLBackendRegistersAndSees(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	b1 := sqlBackend(t, db, cn, "test1")
	b2 := sqlBackend(t, db, cn, "test2")
	// A node sees itself from its second call on, as in MongooseIM.
	if got := getNames(t, b1); len(got) != 0 {
		t.Fatalf("first call of test1 = %v, want []", got)
	}
	if got := getNames(t, b2); !reflect.DeepEqual(got, []string{"test1"}) {
		t.Fatalf("first call of test2 = %v, want [test1]", got)
	}
	if got := getNames(t, b2); !reflect.DeepEqual(got, []string{"test1", "test2"}) {
		t.Fatalf("second call of test2 = %v", got)
	}
	if b1.NodeNum() != 1 || b2.NodeNum() != 2 {
		t.Fatalf("node numbers %d, %d; want 1, 2", b1.NodeNum(), b2.NodeNum())
	}
	info := b2.Describe().(discovery.SQLInfo)
	if !info.AlreadyRegistered || info.NodeNum != 2 || info.Cluster != cn+"-"+discovery.ProtocolVersion {
		t.Fatalf("info = %+v", info)
	}
}

func TestSQLBackendClusterNameHasProtocolVersion(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	b := sqlBackend(t, db, cn, "n1")
	getNames(t, b)
	var stored string
	if err := db.QueryRowContext(t.Context(), q(t, `SELECT cluster_name FROM discovery_nodes WHERE node_name = 'n1'`)).Scan(&stored); err != nil {
		t.Fatal(err)
	}
	if stored != cn+"-"+discovery.ProtocolVersion || !strings.HasPrefix(stored, cn+"-") {
		t.Fatalf("stored cluster name %q", stored)
	}
}

func TestSQLBackendFirstFreeNodeNumber(t *testing.T) {
	for _, tc := range []struct {
		nums []int
		want int
	}{{nil, 1}, {[]int{1, 2, 5}, 3}, {[]int{2, 5}, 1}, {[]int{1, 2}, 3}} {
		if got := discovery.FirstFreeNum(tc.nums); got != tc.want {
			t.Errorf("FirstFreeNum(%v) = %d, want %d", tc.nums, got, tc.want)
		}
	}
	db := pgDB(t)
	cn := newCluster(t)
	a, b, c := sqlBackend(t, db, cn, "a"), sqlBackend(t, db, cn, "b"), sqlBackend(t, db, cn, "c")
	getNames(t, a)
	getNames(t, b)
	// b leaves: its number is free again for the next node.
	if _, err := db.ExecContext(t.Context(), q(t, `DELETE FROM discovery_nodes WHERE node_name = 'b'`)); err != nil {
		t.Fatal(err)
	}
	getNames(t, c)
	if a.NodeNum() != 1 || c.NodeNum() != 2 {
		t.Fatalf("numbers a=%d c=%d, want 1, 2", a.NodeNum(), c.NodeNum())
	}
}

func TestSQLBackendClusterChange(t *testing.T) {
	db := pgDB(t)
	cn1 := newCluster(t)
	cn2 := cn1 + "_new"
	b1 := sqlBackend(t, db, cn1, "test1")
	b2 := sqlBackend(t, db, cn1, "test2")
	getNames(t, b1)
	getNames(t, b2)
	if got := getNames(t, b1); !reflect.DeepEqual(got, []string{"test1", "test2"}) {
		t.Fatalf("cn1 = %v", got)
	}
	// test1 moves to cn2: it leaves cn1.
	nb1 := sqlBackend(t, db, cn2, "test1")
	if got := getNames(t, nb1); len(got) != 0 {
		t.Fatalf("test1 in cn2 first = %v", got)
	}
	if got := getNames(t, b2); !reflect.DeepEqual(got, []string{"test2"}) {
		t.Fatalf("cn1 after move = %v", got)
	}
	nb2 := sqlBackend(t, db, cn2, "test2")
	if got := getNames(t, nb2); !reflect.DeepEqual(got, []string{"test1"}) {
		t.Fatalf("test2 in cn2 = %v", got)
	}
	if got := getNames(t, nb1); !reflect.DeepEqual(got, []string{"test1", "test2"}) {
		t.Fatalf("cn2 = %v", got)
	}
}

func TestSQLBackendExpiresRowsAfterAnHour(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	b1 := sqlBackend(t, db, cn, "test1")
	getNames(t, b1)
	now := dbNow(t, db)
	// old was refreshed just over an hour ago by the database clock, recent
	// just under.
	for _, r := range []struct {
		node string
		num  int
		ts   int64
	}{{"old", 5, now - 3601 - 5}, {"recent", 6, now - 3600 + 60}} {
		if _, err := db.ExecContext(t.Context(), q(t, `INSERT INTO discovery_nodes (cluster_name, node_name, node_num, address, updated_timestamp) VALUES ($1, $2, $3, '', $4)`),
			b1.Cluster(), r.node, r.num, r.ts); err != nil {
			t.Fatal(err)
		}
	}
	b2 := sqlBackend(t, db, cn, "test2")
	if got := getNames(t, b2); !reflect.DeepEqual(got, []string{"recent", "test1"}) {
		t.Fatalf("nodes = %v, want [recent test1]", got)
	}
	if info := b2.Describe().(discovery.SQLInfo); !reflect.DeepEqual(info.Removed, []string{"old"}) {
		t.Fatalf("removed = %v, want [old]", info.Removed)
	}
	rows, err := b2.SelectRows(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var left []string
	for _, r := range rows {
		left = append(left, r.Node)
	}
	if !reflect.DeepEqual(left, []string{"recent", "test1", "test2"}) {
		t.Fatalf("rows left %v", left)
	}
}

func TestSQLBackendNodeDoesNotRemoveItself(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	b1 := sqlBackend(t, db, cn, "test1")
	getNames(t, b1)
	// test1's own row is a month old: it refreshes it instead of expiring it.
	if _, err := db.ExecContext(t.Context(), q(t, `UPDATE discovery_nodes SET updated_timestamp = updated_timestamp - 2592000 WHERE node_name = 'test1'`)); err != nil {
		t.Fatal(err)
	}
	if got := getNames(t, b1); !reflect.DeepEqual(got, []string{"test1"}) {
		t.Fatalf("nodes = %v", got)
	}
	info := b1.Describe().(discovery.SQLInfo)
	if len(info.Removed) != 0 || info.Timestamp < dbNow(t, db)-5 {
		t.Fatalf("info = %+v", info)
	}
	rows, _ := b1.SelectRows(t.Context())
	if len(rows) != 1 || rows[0].Timestamp != info.Timestamp {
		t.Fatalf("row not refreshed: %+v", rows)
	}
}

func TestSQLBackendPublishesAddress(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	b1 := sqlBackend(t, db, cn, "a")
	b1.Address = "10.0.0.1:7000"
	getNames(t, b1)
	b2 := sqlBackend(t, db, cn, "b")
	specs, err := b2.GetNodes(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(specs) != 1 || specs[0].Name != "a" || !reflect.DeepEqual(specs[0].Addrs, []string{"10.0.0.1:7000"}) {
		t.Fatalf("specs = %+v", specs)
	}
}

func TestSQLBackendSchemaRefusesDuplicates(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	b := sqlBackend(t, db, cn, "a")
	getNames(t, b)
	insert := func(cluster, node string, num int) error {
		_, err := db.ExecContext(t.Context(), q(t, `INSERT INTO discovery_nodes (cluster_name, node_name, node_num, address, updated_timestamp) VALUES ($1, $2, $3, '', 0)`), cluster, node, num)
		return err
	}
	if err := insert(b.Cluster(), "x", 1); err == nil {
		t.Error("a second node with number 1 was accepted")
	}
	if err := insert(b.Cluster()+"_other", "a", 7); err == nil {
		t.Error("a node in two clusters was accepted")
	}
	if err := insert(b.Cluster(), "y", 2); err != nil {
		t.Errorf("a free number was refused: %v", err)
	}
}

// Discovery with the SQL backend: the backend's state shows in SystemInfo,
// and a node sees the other after its second call.
func TestSQLBackendInDiscovery(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	var ds []*discovery.Discovery
	for _, name := range []string{"a", "b"} {
		n, err := actor.NewNode(actor.Config{Name: name})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = n.Stop(context.Background()) })
		d := startDisco(t, n, discovery.Config{Backend: sqlBackend(t, db, cn, name)})
		if err := d.WaitForGetNodes(t.Context()); err != nil {
			t.Fatal(err)
		}
		ds = append(ds, d)
	}
	if err := ds[0].Check(); err != nil {
		t.Fatal(err)
	}
	if err := ds[0].WaitForGetNodes(t.Context()); err != nil {
		t.Fatal(err)
	}
	si := sysInfo(t, ds[0])
	info, ok := si.BackendState.(discovery.SQLInfo)
	if !ok || info.NodeNum != 1 || !info.AlreadyRegistered || si.BackendModule != "discovery.SQLBackend" {
		t.Fatalf("backend state %T %+v (%s)", si.BackendState, si.BackendState, si.BackendModule)
	}
	if !reflect.DeepEqual(si.Nodes, []string{"a", "b"}) {
		t.Fatalf("nodes %v", si.Nodes)
	}
}

// A node number taken by another node between the select and the insert
// fails the insert; the node goes on with number 0 and registers with the
// next call (a trigger stands in for the other node, raising the unique
// violation once).
func TestSQLBackendNumberTakenConcurrently(t *testing.T) {
	db := pgDB(t)
	cn := newCluster(t)
	a := sqlBackend(t, db, cn, "a")
	getNames(t, a)
	for _, stmt := range []string{
		`CREATE SEQUENCE discovery_nodes_once`,
		`CREATE FUNCTION discovery_nodes_steal() RETURNS trigger AS $$
		BEGIN
			IF NEW.node_name = 'b' AND nextval('discovery_nodes_once') = 1 THEN
				RAISE unique_violation USING MESSAGE = 'node number taken meanwhile';
			END IF;
			RETURN NEW;
		END $$ LANGUAGE plpgsql`,
		`CREATE TRIGGER discovery_nodes_steal BEFORE INSERT ON discovery_nodes FOR EACH ROW EXECUTE FUNCTION discovery_nodes_steal()`,
	} {
		if _, err := db.ExecContext(t.Context(), q(t, stmt)); err != nil {
			t.Fatal(err)
		}
	}
	b := sqlBackend(t, db, cn, "b")
	if got := getNames(t, b); !reflect.DeepEqual(got, []string{"a"}) || b.NodeNum() != 0 {
		t.Fatalf("after a lost insert: nodes %v, number %d", got, b.NodeNum())
	}
	if got := getNames(t, b); !reflect.DeepEqual(got, []string{"a"}) || b.NodeNum() != 2 {
		t.Fatalf("second call: nodes %v, number %d", got, b.NodeNum())
	}
	if got := getNames(t, b); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Fatalf("third call: nodes %v", got)
	}
}

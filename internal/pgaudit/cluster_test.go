package pgaudit_test

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/jackc/pgx/v5"
)

// cluster is a PostgreSQL of the test's own, with pgaudit preloaded and
// its log written as csvlog into LogDir: never the shared one, whose log
// and settings are not the test's to change.
type cluster struct {
	Dir, LogDir string
	Port        int
}

// skipOrFail skips a test on a machine without PostgreSQL or pgaudit, and
// fails it in CI, where .ci/run installs them.
func skipOrFail(t *testing.T, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatal(why + "; CI installs postgresql-15 and postgresql-15-pgaudit")
	}
	t.Skip(why + " (apt-get install postgresql-15 postgresql-15-pgaudit, or set STEWARD_PG_BIN)")
}

// startCluster runs initdb in a temporary folder and starts PostgreSQL on
// a free port, stopped when the test ends. As root it runs them as the
// postgres user, since initdb refuses root.
func startCluster(t *testing.T) *cluster {
	t.Helper()
	bin := os.Getenv("STEWARD_PG_BIN")
	if bin == "" {
		bin = "/usr/lib/postgresql/15/bin"
	}
	if _, err := os.Stat(filepath.Join(bin, "initdb")); err != nil {
		skipOrFail(t, "no PostgreSQL binaries in "+bin)
	}
	out, err := exec.Command(filepath.Join(bin, "pg_config"), "--pkglibdir").Output()
	if err != nil {
		skipOrFail(t, "pg_config --pkglibdir: "+err.Error())
	}
	if _, err := os.Stat(filepath.Join(strings.TrimSpace(string(out)), "pgaudit.so")); err != nil {
		skipOrFail(t, "pgaudit is not installed for PostgreSQL in "+bin)
	}
	var cred *syscall.Credential
	dir, err := os.MkdirTemp("", "steward-pgaudit-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	if os.Geteuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			skipOrFail(t, "running as root and there is no postgres user to run initdb as")
		}
		uid, _ := strconv.Atoi(u.Uid)
		gid, _ := strconv.Atoi(u.Gid)
		cred = &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}
		if err := os.Chown(dir, uid, gid); err != nil {
			t.Fatal(err)
		}
	}
	run := func(name string, args ...string) {
		t.Helper()
		cmd := exec.Command(filepath.Join(bin, name), args...)
		cmd.Dir = dir
		if cred != nil {
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: cred}
		}
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", name, err, out)
		}
	}
	c := &cluster{Dir: dir, LogDir: filepath.Join(dir, "log"), Port: freePort(t)}
	data := filepath.Join(dir, "data")
	run("initdb", "-D", data, "-U", "postgres", "-A", "trust", "--no-sync", "-E", "UTF8", "--locale=C")
	conf := fmt.Sprintf(`
listen_addresses = '127.0.0.1'
port = %d
unix_socket_directories = '%s'
shared_preload_libraries = 'pgaudit'
logging_collector = on
log_destination = 'csvlog'
log_directory = '%s'
log_timezone = 'UTC'
pgaudit.log = 'read, write'
pgaudit.log_relation = on
fsync = off
`, c.Port, dir, c.LogDir)
	f, err := os.OpenFile(filepath.Join(data, "postgresql.conf"), os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteString(conf); err != nil {
		t.Fatal(err)
	}
	f.Close()
	run("pg_ctl", "-D", data, "-w", "-l", filepath.Join(dir, "server.log"), "start")
	t.Cleanup(func() { run("pg_ctl", "-D", data, "-w", "-m", "fast", "stop") })
	return c
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// connect signs in as role over TCP (so the log has a client address).
func (c *cluster) connect(t *testing.T, role string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), fmt.Sprintf("postgres://%s@127.0.0.1:%d/postgres?sslmode=disable", role, c.Port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close(context.Background()) })
	return conn
}

func exec1(t *testing.T, conn *pgx.Conn, sql string) {
	t.Helper()
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatalf("%s: %v", sql, err)
	}
}

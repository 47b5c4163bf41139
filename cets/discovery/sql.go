package discovery

import (
	"context"
	"database/sql"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/gotp-dev/gotp/remote"
)

// ProtocolVersion is the version of the tables' join and replication
// protocol, as "major.minor". The SQL backend suffixes cluster names with it,
// so that nodes of incompatible versions, sharing one database during a
// rolling upgrade, form two clusters instead of one broken one.
const ProtocolVersion = "1.0"

// SQLSchema creates the table the SQL backend uses (PostgreSQL). It is the
// table MongooseIM's discovery uses, under the name of SQLBackend.Table
// (default discovery_nodes); CreateSchema runs it.
const SQLSchema = `CREATE TABLE IF NOT EXISTS %[1]s (
    cluster_name varchar(250) NOT NULL,
    node_name varchar(250) NOT NULL,
    node_num INT NOT NULL,
    address varchar(250) NOT NULL DEFAULT '',
    updated_timestamp BIGINT NOT NULL,
    PRIMARY KEY (node_name)
);
CREATE UNIQUE INDEX IF NOT EXISTS %[1]s_node_num ON %[1]s (cluster_name, node_num)`

// SQLBackend keeps the cluster's nodes in a table of a PostgreSQL database,
// as MongooseIM's production backend for CETS does
// (mongoose_cets_discovery_rdbms). Every GetNodes:
//
//   - reads the database's clock (the one clock every node agrees on);
//   - selects the rows of the cluster;
//   - refreshes this node's row (timestamp and address), or, for a node not
//     yet registered, deletes any row of it in another cluster and inserts
//     one with the first free node number (1, 2, ...; a number taken
//     concurrently fails the insert, and the next call tries again, the node
//     number staying 0 meanwhile);
//   - deletes the rows of other nodes not refreshed for ExpireTime;
//   - returns the nodes of the rows it selected, less those it deleted.
//
// A node sees itself from its second call on. Its number (NodeNum) is unique
// in the cluster while it keeps refreshing its row, so it can seed ids.
type SQLBackend struct {
	// DB is the database (any database/sql driver for PostgreSQL).
	DB *sql.DB
	// ClusterName names the cluster; the stored name is
	// ClusterName + "-" + ProtocolVersion. Default "gotp".
	ClusterName string
	// NodeName is the name this node registers. Default: the node's name.
	NodeName string
	// Address is published in the row for the other nodes to dial
	// (host:port); empty publishes none.
	Address string
	// ExpireTime is how long a row lives without a refresh. Default 1 hour.
	ExpireTime time.Duration
	// Table is the table's name (letters, digits, underscores). Default
	// discovery_nodes.
	Table string
	// CreateSchema makes the first GetNodes create the table if it is
	// missing.
	CreateSchema bool

	log         *slog.Logger
	mu          sync.Mutex
	schemaReady bool
	info        SQLInfo
}

var _ Backend = (*SQLBackend)(nil)
var _ Describer = (*SQLBackend)(nil)

// SQLRow is a row of the discovery table.
type SQLRow struct {
	Node      string
	Num       int
	Address   string
	Timestamp int64 // seconds, database clock
}

// SQLInfo describes the SQL backend's last GetNodes (MongooseIM's
// last_query_info).
type SQLInfo struct {
	Cluster           string
	AlreadyRegistered bool
	Timestamp         int64 // the database clock, seconds
	Address           string
	NodeNum           int
	LastRows          []SQLRow
	Removed           []string // expired rows deleted
}

var tableName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// Init implements Backend.
func (b *SQLBackend) Init(info BackendInfo) error {
	if b.DB == nil {
		return fmt.Errorf("%w: SQL backend without a database", ErrConfig)
	}
	b.log = info.Logger
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.ClusterName == "" {
		b.ClusterName = "gotp"
	}
	if b.NodeName == "" {
		b.NodeName = info.Node
	}
	if b.NodeName == "" {
		return fmt.Errorf("%w: SQL backend without a node name", ErrConfig)
	}
	if b.ExpireTime <= 0 {
		b.ExpireTime = time.Hour
	}
	if b.Table == "" {
		b.Table = "discovery_nodes"
	}
	if !tableName.MatchString(b.Table) {
		return fmt.Errorf("%w: SQL table name %q", ErrConfig, b.Table)
	}
	return nil
}

// Cluster returns the cluster name as stored: ClusterName-ProtocolVersion.
func (b *SQLBackend) Cluster() string { return b.ClusterName + "-" + ProtocolVersion }

// CreateSchemaNow creates the table if it is missing.
func (b *SQLBackend) CreateSchemaNow(ctx context.Context) error {
	if _, err := b.DB.ExecContext(ctx, fmt.Sprintf(SQLSchema, b.Table)); err != nil {
		return fmt.Errorf("discovery: create table %s: %w", b.Table, err)
	}
	return nil
}

// NodeNum returns this node's number from the last GetNodes (0 before one
// registered it).
func (b *SQLBackend) NodeNum() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.info.NodeNum
}

// Describe implements Describer: a copy of the last SQLInfo.
func (b *SQLBackend) Describe() any {
	b.mu.Lock()
	defer b.mu.Unlock()
	info := b.info
	info.LastRows = slices.Clone(info.LastRows)
	info.Removed = slices.Clone(info.Removed)
	return info
}

// GetNodes implements Backend.
func (b *SQLBackend) GetNodes(ctx context.Context) ([]remote.NodeSpec, error) {
	if b.CreateSchema && !b.schemaReady {
		if err := b.CreateSchemaNow(ctx); err != nil {
			return nil, err
		}
		b.schemaReady = true
	}
	cluster := b.Cluster()
	var now int64
	if err := b.DB.QueryRowContext(ctx, `SELECT CAST(extract(epoch from now()) AS bigint)`).Scan(&now); err != nil {
		return nil, fmt.Errorf("discovery: read database clock: %w", err)
	}
	rows, err := b.selectRows(ctx, cluster)
	if err != nil {
		return nil, err
	}
	info := SQLInfo{Cluster: cluster, Timestamp: now, Address: b.Address, LastRows: rows}
	var nums []int
	for _, r := range rows {
		nums = append(nums, r.Num)
		if r.Node == b.NodeName {
			info.AlreadyRegistered = true
			info.NodeNum = r.Num
		}
	}
	if info.AlreadyRegistered {
		if _, err := b.DB.ExecContext(ctx, fmt.Sprintf(`UPDATE %s SET updated_timestamp = $1, address = $2 WHERE node_name = $3`, b.Table),
			now, b.Address, b.NodeName); err != nil {
			return nil, fmt.Errorf("discovery: refresh row: %w", err)
		}
	} else {
		num := FirstFreeNum(nums)
		// A node that was a member of another cluster leaves it.
		if _, err := b.DB.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE node_name = $1`, b.Table), b.NodeName); err != nil {
			return nil, fmt.Errorf("discovery: delete old row: %w", err)
		}
		_, err := b.DB.ExecContext(ctx, fmt.Sprintf(`INSERT INTO %s (cluster_name, node_name, node_num, address, updated_timestamp) VALUES ($1, $2, $3, $4, $5)`, b.Table),
			cluster, b.NodeName, num, b.Address, now)
		switch {
		case err == nil:
			info.NodeNum = num
		case ctx.Err() != nil:
			return nil, fmt.Errorf("discovery: register: %w", err)
		default:
			// Another node took the number at the same moment: the next
			// call tries again, with number 0 meanwhile.
			b.log.Warn("discovery: SQL registration failed; retrying with the next call", "node", b.NodeName, "node_num", num, "reason", err)
		}
	}
	expire := int64(b.ExpireTime / time.Second)
	var expired []string
	for _, r := range rows {
		if r.Node != b.NodeName && now-r.Timestamp > expire {
			if _, err := b.DB.ExecContext(ctx, fmt.Sprintf(`DELETE FROM %s WHERE node_name = $1`, b.Table), r.Node); err != nil {
				return nil, fmt.Errorf("discovery: delete expired row: %w", err)
			}
			expired = append(expired, r.Node)
		}
	}
	info.Removed = expired
	var out []remote.NodeSpec
	for _, r := range rows {
		if slices.Contains(expired, r.Node) {
			continue
		}
		spec := remote.NodeSpec{Name: r.Node}
		if r.Address != "" {
			spec.Addrs = []string{r.Address}
		}
		out = append(out, spec)
	}
	b.mu.Lock()
	b.info = info
	b.mu.Unlock()
	return out, nil
}

// SelectRows returns the rows of the cluster, sorted by node name.
func (b *SQLBackend) SelectRows(ctx context.Context) ([]SQLRow, error) {
	return b.selectRows(ctx, b.Cluster())
}

func (b *SQLBackend) selectRows(ctx context.Context, cluster string) ([]SQLRow, error) {
	rs, err := b.DB.QueryContext(ctx, fmt.Sprintf(`SELECT node_name, node_num, address, updated_timestamp FROM %s WHERE cluster_name = $1 ORDER BY node_name`, b.Table), cluster)
	if err != nil {
		return nil, fmt.Errorf("discovery: select nodes: %w", err)
	}
	defer rs.Close()
	var rows []SQLRow
	for rs.Next() {
		var r SQLRow
		if err := rs.Scan(&r.Node, &r.Num, &r.Address, &r.Timestamp); err != nil {
			return nil, fmt.Errorf("discovery: select nodes: %w", err)
		}
		rows = append(rows, r)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("discovery: select nodes: %w", err)
	}
	return rows, nil
}

// FirstFreeNum returns the smallest number from 1 up that nums does not
// hold (0 is the number of a node not registered).
func FirstFreeNum(nums []int) int {
	for n := 1; ; n++ {
		if !slices.Contains(nums, n) {
			return n
		}
	}
}

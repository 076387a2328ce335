package jiratest

import (
	"encoding/json"
	"fmt"
	"sort"
	"strconv"
	"strings"
	"unicode"
)

// The JQL subset: clauses "field op value" combined with parentheses, NOT,
// AND and OR (binding in that order, strongest first, as Atlassian's "JQL
// order of operations" article lists them:
// https://support.atlassian.com/jira/kb/jira-cloud-jql-order-of-operations/),
// then an optional ORDER BY. Fields: project, key/issuekey/id, assignee,
// reporter, status, resolution, issuetype/type, priority, labels,
// component (=, !=, IN, NOT IN, IS [NOT] EMPTY); summary, description,
// comment, text (~, !~); issue.property[key].path (=, !=, IN, NOT IN,
// IS [NOT] EMPTY). Errors use Jira's wording: "Error in the JQL Query: …
// (line 1, character N)" for syntax, as real answers quoted in
// https://github.com/hygieia/hygieia/issues/276 and
// https://github.com/jira-node/node-jira-client/issues/149 show, and
// "Field 'x' does not exist or you do not have permission to view it." for
// unknown fields (Atlassian's KB "How to handle HTTP 400 Bad Request errors
// on Jira search REST API endpoint").

type tokKind int

const (
	tEOF tokKind = iota
	tWord
	tString
	tOp
	tLParen
	tRParen
	tComma
)

type token struct {
	kind tokKind
	text string
	pos  int // 1-based character position, as Jira reports it
}

func tokenize(src string) ([]token, *Error) {
	var toks []token
	rs := []rune(src)
	for i := 0; i < len(rs); {
		r := rs[i]
		switch {
		case unicode.IsSpace(r):
			i++
		case r == '"' || r == '\'':
			t, next, err := quoted(rs, i)
			if err != nil {
				return nil, err
			}
			toks, i = append(toks, t), next
		case strings.ContainsRune("(),", r):
			kind := map[rune]tokKind{'(': tLParen, ')': tRParen, ',': tComma}[r]
			toks, i = append(toks, token{kind, string(r), i + 1}), i+1
		case strings.ContainsRune("=!~<>", r):
			j := i + 1
			if j < len(rs) && (rs[j] == '=' || rs[j] == '~') && r != '=' && r != '~' {
				j++
			}
			toks, i = append(toks, token{tOp, string(rs[i:j]), i + 1}), j
		default:
			j := i
			for j < len(rs) && !unicode.IsSpace(rs[j]) && !strings.ContainsRune("\"'(),=!~<>", rs[j]) {
				j++
			}
			toks, i = append(toks, token{tWord, string(rs[i:j]), i + 1}), j
		}
	}
	return append(toks, token{tEOF, "", len(rs) + 1}), nil
}

func quoted(rs []rune, i int) (token, int, *Error) {
	q := rs[i]
	var b strings.Builder
	for j := i + 1; j < len(rs); j++ {
		switch rs[j] {
		case '\\':
			if j+1 < len(rs) {
				j++
				b.WriteRune(rs[j])
			}
		case q:
			return token{tString, b.String(), i + 1}, j + 1, nil
		default:
			b.WriteRune(rs[j])
		}
	}
	return token{}, 0, jqlSyntax(i+1, fmt.Sprintf("The quoted string '%s' has not been completed.", string(rs[i:])))
}

func jqlSyntax(pos int, msg string) *Error {
	return errMessage(400, fmt.Sprintf("Error in the JQL Query: %s (line 1, character %d)", msg, pos))
}

func jqlError(msg string) *Error { return errMessage(400, msg) }

type value struct {
	text  string
	fn    string // lower-case function name, e.g. "currentuser"
	empty bool   // EMPTY or NULL
	pos   int
}

type clause struct {
	field      string // as written
	op         string // lower case: =, !=, ~, !~, in, not in, is, is not, <…
	values     []value
	pos        int
	propKey    string
	propPath   []string
	isProperty bool
}

type orderKey struct {
	field string
	desc  bool
}

// node is a boolean expression of clauses: op "and", "or" or "not" over
// kids, or "" for a single clause.
type node struct {
	op     string
	kids   []*node
	clause clause
}

type query struct {
	where *node // nil: no restriction
	order []orderKey
}

type parser struct {
	toks []token
	i    int
}

func (p *parser) peek() token { return p.toks[p.i] }

func (p *parser) next() token {
	t := p.toks[p.i]
	if t.kind != tEOF {
		p.i++
	}
	return t
}

func (p *parser) atWord(w string) bool {
	t := p.peek()
	return t.kind == tWord && strings.EqualFold(t.text, w)
}

func describe(t token) string {
	if t.kind == tEOF {
		return "end of query"
	}
	return "'" + t.text + "'"
}

// parseJQL parses the subset; errors are Jira's 400 bodies.
func parseJQL(src string) (*query, *Error) {
	toks, err := tokenize(src)
	if err != nil {
		return nil, err
	}
	p := &parser{toks: toks}
	q := &query{}
	if p.peek().kind != tEOF && !p.atWord("order") {
		if q.where, err = p.or(); err != nil {
			return nil, err
		}
	}
	if p.atWord("order") {
		if q.order, err = p.orderBy(); err != nil {
			return nil, err
		}
	}
	if t := p.peek(); t.kind != tEOF {
		return nil, jqlSyntax(t.pos, fmt.Sprintf("Expecting either 'OR' or 'AND' but got %s.", describe(t)))
	}
	return q, nil
}

// or parses "a OR b OR …", the weakest binding.
func (p *parser) or() (*node, *Error) {
	return p.joined("or", p.and)
}

// and parses "a AND b AND …".
func (p *parser) and() (*node, *Error) {
	return p.joined("and", p.not)
}

func (p *parser) joined(op string, operand func() (*node, *Error)) (*node, *Error) {
	n, err := operand()
	if err != nil {
		return nil, err
	}
	for p.atWord(op) {
		p.next()
		right, err := operand()
		if err != nil {
			return nil, err
		}
		n = &node{op: op, kids: []*node{n, right}}
	}
	return n, nil
}

// not parses "NOT x", "(…)" or a clause.
func (p *parser) not() (*node, *Error) {
	switch {
	case p.atWord("not"):
		p.next()
		n, err := p.not()
		if err != nil {
			return nil, err
		}
		return &node{op: "not", kids: []*node{n}}, nil
	case p.peek().kind == tLParen:
		p.next()
		n, err := p.or()
		if err != nil {
			return nil, err
		}
		switch t := p.next(); {
		case t.kind == tEOF:
			// The wording follows Jira's "Expecting X but got Y." family.
			return nil, jqlSyntax(t.pos, "Expecting ')' but got end of query.")
		case t.kind != tRParen:
			return nil, jqlSyntax(t.pos, fmt.Sprintf("Expecting either 'OR' or 'AND' but got %s.", describe(t)))
		}
		return n, nil
	}
	c, err := p.clause()
	if err != nil {
		return nil, err
	}
	return &node{clause: c}, nil
}

func (p *parser) clause() (clause, *Error) {
	t := p.next()
	switch {
	case t.kind != tWord && t.kind != tString:
		return clause{}, jqlSyntax(t.pos, fmt.Sprintf("Expecting a field name but got %s.", describe(t)))
	}
	c := clause{field: t.text, pos: t.pos}
	if err := c.parseProperty(); err != nil {
		return c, err
	}
	op, err := p.operator()
	if err != nil {
		return c, err
	}
	c.op = op
	c.values, err = p.operand(op)
	return c, err
}

// parseProperty splits issue.property[key].path.
func (c *clause) parseProperty() *Error {
	const prefix = "issue.property["
	if !strings.HasPrefix(strings.ToLower(c.field), prefix) {
		return nil
	}
	rest := c.field[len(prefix):]
	end := strings.Index(rest, "]")
	if end <= 0 {
		return jqlSyntax(c.pos, fmt.Sprintf("The issue property reference '%s' is invalid.", c.field))
	}
	c.isProperty, c.propKey = true, rest[:end]
	if path := strings.TrimPrefix(rest[end+1:], "."); path != "" {
		c.propPath = strings.Split(path, ".")
	}
	return nil
}

const validOps = "The valid operators are '=', '!=', '<', '>', '<=', '>=', '~', '!~', 'IN', 'NOT IN', 'IS' and 'IS NOT'."

func (p *parser) operator() (string, *Error) {
	t := p.next()
	if t.kind == tOp {
		return t.text, nil
	}
	if t.kind == tWord {
		switch w := strings.ToLower(t.text); w {
		case "in":
			return "in", nil
		case "is", "not":
			if p.atWord("not") && w == "is" {
				p.next()
				return "is not", nil
			}
			if w == "not" {
				if !p.atWord("in") {
					break
				}
				p.next()
				return "not in", nil
			}
			return "is", nil
		}
	}
	return "", jqlSyntax(t.pos, fmt.Sprintf("Expecting operator but got %s. %s", describe(t), validOps))
}

func (p *parser) operand(op string) ([]value, *Error) {
	if op != "in" && op != "not in" {
		v, err := p.value()
		return []value{v}, err
	}
	t := p.next()
	if t.kind != tLParen {
		return nil, jqlSyntax(t.pos, fmt.Sprintf("Expecting '(' but got %s.", describe(t)))
	}
	var vals []value
	for {
		v, err := p.value()
		if err != nil {
			return nil, err
		}
		vals = append(vals, v)
		t := p.next()
		if t.kind == tRParen {
			return vals, nil
		}
		if t.kind != tComma {
			return nil, jqlSyntax(t.pos, fmt.Sprintf("Expecting ',' or ')' but got %s.", describe(t)))
		}
	}
}

func (p *parser) value() (value, *Error) {
	t := p.next()
	switch t.kind {
	case tString:
		return value{text: t.text, pos: t.pos}, nil
	case tWord:
		if p.peek().kind == tLParen {
			p.next()
			if c := p.next(); c.kind != tRParen {
				return value{}, jqlSyntax(c.pos, "jiratest supports only functions without arguments.")
			}
			return value{fn: strings.ToLower(t.text), text: t.text, pos: t.pos}, nil
		}
		empty := strings.EqualFold(t.text, "empty") || strings.EqualFold(t.text, "null")
		return value{text: t.text, empty: empty, pos: t.pos}, nil
	}
	return value{}, jqlSyntax(t.pos, fmt.Sprintf("Expecting either a value, list or function but got %s.", describe(t)))
}

func (p *parser) orderBy() ([]orderKey, *Error) {
	p.next()
	if t := p.next(); t.kind != tWord || !strings.EqualFold(t.text, "by") {
		return nil, jqlSyntax(t.pos, fmt.Sprintf("Expecting 'by' but got %s.", describe(t)))
	}
	var keys []orderKey
	for {
		t := p.next()
		if t.kind != tWord && t.kind != tString {
			return nil, jqlSyntax(t.pos, fmt.Sprintf("Expecting a field name but got %s.", describe(t)))
		}
		k := orderKey{field: strings.ToLower(t.text)}
		if p.atWord("desc") || p.atWord("asc") {
			k.desc = strings.EqualFold(p.next().text, "desc")
		}
		keys = append(keys, k)
		if p.peek().kind != tComma {
			return keys, nil
		}
		p.next()
	}
}

// --- evaluation ---

type matcher func(*issueRec) bool

// fieldKinds maps JQL field names to the fake's fields.
var fieldKinds = map[string]string{
	"project": "project", "key": "key", "issuekey": "key", "id": "key",
	"assignee": "assignee", "reporter": "reporter", "status": "status",
	"resolution": "resolution", "issuetype": "type", "type": "type",
	"priority": "priority", "labels": "labels", "component": "component",
	"summary": "summary", "description": "description", "comment": "comment", "text": "text",
	"created": "created", "createddate": "created", "updated": "updated", "updateddate": "updated",
}

var textKinds = map[string]bool{"summary": true, "description": true, "comment": true, "text": true}

// compile resolves a parsed query against the site; me is currentUser().
func (s *Server) compile(q *query, me User) (matcher, *Error) {
	m := func(*issueRec) bool { return true }
	if q.where != nil {
		var err *Error
		if m, err = s.compileNode(q.where, me); err != nil {
			return nil, err
		}
	}
	for _, k := range q.order {
		if err := checkOrder(k.field); err != nil {
			return nil, err
		}
	}
	return m, nil
}

func (s *Server) compileNode(n *node, me User) (matcher, *Error) {
	if n.op == "" {
		return s.compileClause(n.clause, me)
	}
	kids := make([]matcher, len(n.kids))
	for i, k := range n.kids {
		m, err := s.compileNode(k, me)
		if err != nil {
			return nil, err
		}
		kids[i] = m
	}
	switch n.op {
	case "not":
		return func(is *issueRec) bool { return !kids[0](is) }, nil
	case "or":
		return func(is *issueRec) bool { return kids[0](is) || kids[1](is) }, nil
	}
	return func(is *issueRec) bool { return kids[0](is) && kids[1](is) }, nil
}

func unknownField(name string) *Error {
	return jqlError(fmt.Sprintf("Field '%s' does not exist or you do not have permission to view it.", name))
}

func (s *Server) compileClause(c clause, me User) (matcher, *Error) {
	kind := "property"
	if !c.isProperty {
		kind = fieldKinds[strings.ToLower(c.field)]
	}
	switch {
	case kind == "":
		return nil, unknownField(c.field)
	case kind == "created" || kind == "updated":
		return nil, jqlSyntax(c.pos, fmt.Sprintf("jiratest does not support searching by '%s'; use it in ORDER BY.", c.field))
	case textKinds[kind]:
		return s.textClause(c, kind, s.userID(me))
	}
	if !map[string]bool{"=": true, "!=": true, "in": true, "not in": true, "is": true, "is not": true}[c.op] {
		return nil, jqlError(fmt.Sprintf("The operator '%s' is not supported by the '%s' field.", strings.ToUpper(c.op), c.field))
	}
	want := map[string]bool{}
	for _, v := range c.values {
		norm, err := s.normalize(kind, c.field, v, me)
		if err != nil {
			return nil, err
		}
		want[norm] = true
	}
	get := s.getter(kind, c)
	return setMatcher(c.op, want, get), nil
}

// setMatcher implements Jira's null semantics: != and NOT IN never match
// an empty field; "" in want stands for EMPTY.
func setMatcher(op string, want map[string]bool, get func(*issueRec) []string) matcher {
	return func(is *issueRec) bool {
		have := get(is)
		hit := len(have) == 0 && want[""]
		for _, h := range have {
			hit = hit || want[h]
		}
		switch op {
		case "=", "in", "is":
			return hit
		case "is not":
			return !hit
		}
		return len(have) > 0 && !hit
	}
}

// normalize checks a value like Jira does and returns the lower-case form
// the getter produces.
func (s *Server) normalize(kind, field string, v value, me User) (string, *Error) {
	bad := jqlError(fmt.Sprintf("The value '%s' does not exist for the field '%s'.", v.text, field))
	if v.empty {
		return "", nil
	}
	if v.fn != "" {
		if v.fn == "currentuser" && (kind == "assignee" || kind == "reporter") {
			return strings.ToLower(s.userID(me)), nil
		}
		return "", jqlError(fmt.Sprintf("Unable to find JQL function '%s()'.", v.text))
	}
	t := v.text
	switch kind {
	case "project":
		if p := s.projectByName(t); p != nil {
			return strings.ToLower(p.Key), nil
		}
		return "", bad
	case "key":
		if is := s.issue(t); is != nil {
			return strings.ToLower(is.Key), nil
		}
		return "", jqlError(fmt.Sprintf("An issue with key '%s' does not exist for field '%s'.", t, field))
	case "assignee", "reporter":
		if u := s.findUser(t); u != nil {
			return strings.ToLower(s.userID(*u)), nil
		}
		return "", bad
	case "status":
		if st := statusByNameOrID(t); st != nil {
			return strings.ToLower(st.name), nil
		}
		return "", bad
	case "resolution":
		return normResolution(t, bad)
	case "type":
		if n := s.typeName(t); n != "" {
			return strings.ToLower(n), nil
		}
		return "", bad
	case "component":
		if c := s.anyComponent(t); c != nil {
			return strings.ToLower(c.Name), nil
		}
		return "", bad
	case "priority":
		if p := priorityByID(t); p != "" {
			return strings.ToLower(p), nil
		}
		if priorityID(t) != "" {
			return strings.ToLower(t), nil
		}
		return "", bad
	}
	return strings.ToLower(t), nil
}

func normResolution(t string, bad *Error) (string, *Error) {
	switch {
	case strings.EqualFold(t, "unresolved"):
		return "", nil
	case strings.EqualFold(t, "done") || t == resolutionDoneID:
		return "done", nil
	}
	return "", bad
}

func statusByNameOrID(t string) *status {
	for i := range statuses {
		if strings.EqualFold(statuses[i].name, t) || statuses[i].id == t {
			return &statuses[i]
		}
	}
	return nil
}

func (s *Server) projectByName(t string) *project {
	if p := s.project(t); p != nil {
		return p
	}
	for _, p := range s.projects {
		if strings.EqualFold(p.Name, t) {
			return p
		}
	}
	return nil
}

// getter returns the issue's lower-case values for a field.
func (s *Server) getter(kind string, c clause) func(*issueRec) []string {
	one := func(v string) []string {
		if v == "" {
			return nil
		}
		return []string{strings.ToLower(v)}
	}
	user := func(u *User) []string {
		if u == nil {
			return nil
		}
		return one(s.userID(*u))
	}
	switch kind {
	case "project":
		return func(is *issueRec) []string { return one(is.project.Key) }
	case "key":
		return func(is *issueRec) []string { return one(is.Key) }
	case "assignee":
		return func(is *issueRec) []string { return user(is.Assignee) }
	case "reporter":
		return func(is *issueRec) []string { return user(is.Reporter) }
	case "status":
		return func(is *issueRec) []string { return one(is.Status) }
	case "resolution":
		return func(is *issueRec) []string { return one(is.Resolution) }
	case "type":
		return func(is *issueRec) []string { return one(is.Type) }
	case "priority":
		return func(is *issueRec) []string { return one(is.Priority) }
	case "labels":
		return func(is *issueRec) []string { return lowerAll(is.Labels) }
	case "component":
		return func(is *issueRec) []string { return lowerAll(is.Components) }
	}
	return func(is *issueRec) []string { return propertyValues(is.Properties[c.propKey], c.propPath) }
}

func lowerAll(list []string) []string {
	var out []string
	for _, v := range list {
		out = append(out, strings.ToLower(v))
	}
	return out
}

// propertyValues walks path into a JSON value and returns the scalars
// found there (each element, for an array).
func propertyValues(raw json.RawMessage, path []string) []string {
	if raw == nil {
		return nil
	}
	var v any
	if json.Unmarshal(raw, &v) != nil {
		return nil
	}
	for _, k := range path {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	var out []string
	for _, x := range flatten(v) {
		out = append(out, strings.ToLower(x))
	}
	return out
}

func flatten(v any) []string {
	switch x := v.(type) {
	case nil:
		return nil
	case string:
		return []string{x}
	case float64:
		return []string{strconv.FormatFloat(x, 'f', -1, 64)}
	case bool:
		return []string{strconv.FormatBool(x)}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	}
	b, _ := json.Marshal(v)
	return []string{string(b)}
}

func (s *Server) textClause(c clause, kind, me string) (matcher, *Error) {
	if c.op != "~" && c.op != "!~" {
		return nil, jqlError(fmt.Sprintf("The operator '%s' is not supported by the '%s' field.", strings.ToUpper(c.op), c.field))
	}
	v := c.values[0]
	if v.fn != "" || v.empty {
		return nil, jqlSyntax(v.pos, fmt.Sprintf("The field '%s' only supports a text value with '~'.", c.field))
	}
	needle := strings.ToLower(strings.Trim(v.text, "*"))
	return func(is *issueRec) bool {
		found := false
		for _, h := range s.textOf(is, kind, me) {
			found = found || strings.Contains(strings.ToLower(h), needle)
		}
		return found == (c.op == "~")
	}, nil
}

// textOf is the text a search by me (a user id) looks through: Jira
// searches only the comments the searcher may read.
func (s *Server) textOf(is *issueRec, kind, me string) []string {
	var comments []string
	for i := range is.Comments {
		if c := &is.Comments[i]; s.readsComment(me, is, c) {
			comments = append(comments, c.Body)
		}
	}
	switch kind {
	case "summary":
		return []string{is.Summary}
	case "description":
		return []string{is.Description}
	case "comment":
		return comments
	}
	return append([]string{is.Summary, is.Description}, comments...)
}

func checkOrder(field string) *Error {
	switch fieldKinds[field] {
	case "created", "updated", "key":
		return nil
	case "":
		return unknownField(field)
	}
	return jqlError(fmt.Sprintf("jiratest cannot order by '%s'; use created, updated or key.", field))
}

// sortIssues orders by the ORDER BY keys; without them, newest first.
func sortIssues(list []*issueRec, order []orderKey) {
	if len(order) == 0 {
		order = []orderKey{{field: "created", desc: true}}
	}
	sort.SliceStable(list, func(i, j int) bool {
		for _, k := range order {
			c := compareBy(list[i], list[j], fieldKinds[k.field])
			if c != 0 {
				return (c < 0) != k.desc
			}
		}
		return false
	})
}

// compareBy compares two issues on a field, then by id so ties are stable.
func compareBy(a, b *issueRec, kind string) int {
	switch kind {
	case "created":
		if c := a.Created.Compare(b.Created); c != 0 {
			return c
		}
	case "updated":
		if c := a.Updated.Compare(b.Updated); c != 0 {
			return c
		}
	case "key":
		if c := strings.Compare(a.project.Key, b.project.Key); c != 0 {
			return c
		}
	}
	ai, _ := strconv.Atoi(a.ID)
	bi, _ := strconv.Atoi(b.ID)
	return ai - bi
}

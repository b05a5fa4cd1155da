import { isComment, KEYWORD, type ScanToken } from './parser';

/** Object types as SQL spells them, where the parser's enum name differs. */
const objectWords: Record<string, string> = {
  MATVIEW: 'MATERIALIZED VIEW',
  FOREIGN_TABLE: 'FOREIGN TABLE',
  FOREIGN_SERVER: 'SERVER',
  FDW: 'FOREIGN DATA WRAPPER',
  TSCONFIGURATION: 'TEXT SEARCH CONFIGURATION',
  TSDICTIONARY: 'TEXT SEARCH DICTIONARY',
  TSPARSER: 'TEXT SEARCH PARSER',
  TSTEMPLATE: 'TEXT SEARCH TEMPLATE',
  LARGEOBJECT: 'LARGE OBJECT',
  OPCLASS: 'OPERATOR CLASS',
  OPFAMILY: 'OPERATOR FAMILY',
  TABCONSTRAINT: 'CONSTRAINT',
  DEFACL: 'DEFAULT PRIVILEGES',
  EVENT_TRIGGER: 'EVENT TRIGGER',
  STATISTIC_EXT: 'STATISTICS',
};

function objectWord(objtype: unknown): string {
  const raw = String(objtype ?? '').replace(/^OBJECT_/, '');
  return objectWords[raw] ?? raw.replaceAll('_', ' ');
}

/** Statements whose words follow from the node alone. */
const fixedLabels: Record<string, string> = {
  CreateStmt: 'CREATE TABLE',
  CreateForeignTableStmt: 'CREATE FOREIGN TABLE',
  IndexStmt: 'CREATE INDEX',
  ViewStmt: 'CREATE VIEW',
  CompositeTypeStmt: 'CREATE TYPE',
  CreateEnumStmt: 'CREATE TYPE',
  CreateRangeStmt: 'CREATE TYPE',
  AlterEnumStmt: 'ALTER TYPE',
  CreateDomainStmt: 'CREATE DOMAIN',
  AlterDomainStmt: 'ALTER DOMAIN',
  CreateSeqStmt: 'CREATE SEQUENCE',
  AlterSeqStmt: 'ALTER SEQUENCE',
  CreateSchemaStmt: 'CREATE SCHEMA',
  CreateExtensionStmt: 'CREATE EXTENSION',
  CreateTrigStmt: 'CREATE TRIGGER',
  CreateEventTrigStmt: 'CREATE EVENT TRIGGER',
  CreatePolicyStmt: 'CREATE POLICY',
  AlterPolicyStmt: 'ALTER POLICY',
  RuleStmt: 'CREATE RULE',
  DoStmt: 'DO',
  SelectStmt: 'SELECT',
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  CopyStmt: 'COPY',
  TruncateStmt: 'TRUNCATE',
  AlterFunctionStmt: 'ALTER FUNCTION',
  CreateRoleStmt: 'CREATE ROLE',
  AlterRoleStmt: 'ALTER ROLE',
  GrantRoleStmt: 'GRANT role',
  AlterDefaultPrivilegesStmt: 'ALTER DEFAULT PRIVILEGES',
  CreateCastStmt: 'CREATE CAST',
  CreateOpClassStmt: 'CREATE OPERATOR CLASS',
  CreatePublicationStmt: 'CREATE PUBLICATION',
  CreateStatsStmt: 'CREATE STATISTICS',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
  VacuumStmt: 'VACUUM',
  ExplainStmt: 'EXPLAIN',
  LockStmt: 'LOCK',
  NotifyStmt: 'NOTIFY',
};

const transactionWords: Record<string, string> = {
  TRANS_STMT_BEGIN: 'BEGIN',
  TRANS_STMT_START: 'START TRANSACTION',
  TRANS_STMT_COMMIT: 'COMMIT',
  TRANS_STMT_ROLLBACK: 'ROLLBACK',
  TRANS_STMT_SAVEPOINT: 'SAVEPOINT',
  TRANS_STMT_RELEASE: 'RELEASE SAVEPOINT',
  TRANS_STMT_ROLLBACK_TO: 'ROLLBACK TO SAVEPOINT',
  TRANS_STMT_PREPARE: 'PREPARE TRANSACTION',
  TRANS_STMT_COMMIT_PREPARED: 'COMMIT PREPARED',
  TRANS_STMT_ROLLBACK_PREPARED: 'ROLLBACK PREPARED',
};

/**
 * The statement named in SQL's words ("CREATE TABLE", "GRANT … ON TABLE", "SET"), never the
 * parser's node name. Statements not listed are named by their leading keywords.
 */
export function statementLabel(stmt: Record<string, unknown>, tokens: ScanToken[]): string {
  const kind = Object.keys(stmt)[0] ?? '';
  const node = (stmt[kind] ?? {}) as Record<string, unknown>;
  const fixed = fixedLabels[kind];
  if (kind === 'CreateTrigStmt' && node['isconstraint']) return 'CREATE CONSTRAINT TRIGGER';
  if (fixed) return fixed;
  switch (kind) {
    case 'TransactionStmt':
      return transactionWords[String(node['kind'])] ?? 'transaction control';
    case 'VariableSetStmt':
      return node['kind'] === 'VAR_RESET' || node['kind'] === 'VAR_RESET_ALL' ? 'RESET' : 'SET';
    case 'DefineStmt':
      return `CREATE ${objectWord(node['kind'])}`;
    case 'CreateTableAsStmt':
      return node['objtype'] === 'OBJECT_MATVIEW' ? 'CREATE MATERIALIZED VIEW' : 'CREATE TABLE AS';
    case 'AlterTableStmt':
      return `ALTER ${objectWord(node['objtype'])}`;
    case 'GrantStmt': {
      const verb = node['is_grant'] ? 'GRANT' : 'REVOKE';
      const all = node['targtype'] === 'ACL_TARGET_ALL_IN_SCHEMA' ? 'ALL ' : '';
      const word = objectWord(node['objtype']);
      return `${verb} … ON ${all}${all ? `${word}S IN SCHEMA` : word}`;
    }
    case 'CommentStmt':
      return `COMMENT ON ${objectWord(node['objtype'])}`;
    case 'DropStmt':
      return `DROP ${objectWord(node['removeType'])}`;
    case 'AlterOwnerStmt':
      return `ALTER ${objectWord(node['objectType'])} … OWNER TO`;
    case 'RenameStmt':
      return `ALTER ${objectWord(node['renameType'])} … RENAME`;
    case 'AlterObjectSchemaStmt':
      return `ALTER ${objectWord(node['objectType'])} … SET SCHEMA`;
    default:
      return leadingKeywords(tokens);
  }
}

/** The keywords a statement starts with, up to its first name ("CREATE PUBLICATION"). */
function leadingKeywords(tokens: ScanToken[]): string {
  const words: string[] = [];
  for (const t of tokens) {
    if (isComment(t)) continue;
    if (t.keywordKind === KEYWORD.none || words.length === 3 || t.text.toUpperCase() === 'IF') break;
    words.push(t.text.toUpperCase());
  }
  return words.join(' ') || 'statement';
}

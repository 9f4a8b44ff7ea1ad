/** The options of a list submission, shared by `clean` and `submit`. */
import type { Command } from 'commander';
import type { SubmitOptions } from '../../pipeline/service.js';
import { emailColumn, maxAgeSeconds } from '../option-parsers.js';

export interface ListFlags {
  out: string;
  id?: string;
  emailColumn?: string | number;
  escapeFormulas?: boolean;
  maxAge?: number;
}

/** `<input> --out <prefix> [--id] [--email-column] [--escape-formulas] [--max-age]` on `cmd`. */
export function listOptions(cmd: Command): Command {
  return cmd
    .argument('<input>', 'the CSV to clean: s3://bucket/key, file:///path or a path')
    .requiredOption('-o, --out <prefix>', 'where the result files go: s3://bucket/prefix/, file:///dir/ or a folder')
    .option('--id <id>', 'the list id (letters, digits, . _ -); the same id twice is one list (default: a new UUID)')
    .option('--email-column <name|index>', 'the header name or 0-based index of the email column (default: detected)', emailColumn)
    .option('--escape-formulas', "prefix ' to cells starting with = + - @ tab CR, for files opened in spreadsheets")
    .option('--max-age <duration>', 'take verdicts from the fleet-wide verdict cache only when younger than this (30d, 12h, 0 = probe every address)', maxAgeSeconds);
}

export function submitOptions(input: string, f: ListFlags): SubmitOptions {
  return {
    input,
    output: f.out,
    ...(f.id !== undefined ? { listId: f.id } : {}),
    ...(f.emailColumn !== undefined ? { emailColumn: f.emailColumn } : {}),
    ...(f.maxAge !== undefined ? { maxAge: f.maxAge } : {}),
    ...(f.escapeFormulas ? { escapeFormulas: true } : {}),
  };
}

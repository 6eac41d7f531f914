import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { commands, type CommandSpec, type Usage } from './command-table.js';
import { Ui } from './ui.js';

const { version } = createRequire(import.meta.url)('../../../package.json') as { version: string };

/** The parsed program; `exitCode` holds what the command that ran returned. */
export interface Program {
  parseAsync(argv: string[]): Promise<unknown>;
  readonly exitCode: number;
}

export function buildProgram(): Program {
  let exitCode = 0;
  const program = new Command('vipkit')
    .description('Announce and troubleshoot virtual IPs at Layer 2 (ARP/NDP) and over BGP.')
    .version(version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();

  for (const spec of commands) {
    // commander passes the declared arguments (one variadic list, if any), then the options, then the command.
    const action = (subcommand?: string) => async (...args: unknown[]) => {
      const targets = args.length > 2 ? (args[0] as string[]) : [];
      exitCode = await runCommand(spec, subcommand === undefined ? targets : [subcommand, ...targets], args.at(-2) as Record<string, unknown>);
    };
    const command = describe(program.command(spec.name), spec, spec.name);
    if (!spec.subcommands) command.action(action());
    for (const subcommand of spec.subcommands ?? []) describe(command.command(subcommand.name), subcommand, spec.name).action(action(subcommand.name));
  }

  return {
    parseAsync: (argv) => program.parseAsync(argv),
    get exitCode() {
      return exitCode;
    },
  };
}

/** Help, arguments and options from the table; the man page is the command's, subcommands included. */
function describe(command: Command, usage: Usage, page: string): Command {
  command
    .description(usage.summary)
    .addHelpText('after', `\nExamples:\n${usage.examples.map((example) => `  ${example}`).join('\n')}\n\nSee man vipkit-${page}(1).`)
    .exitOverride();
  if (usage.arguments) command.argument(usage.arguments);
  for (const option of usage.options) {
    const entry = new Option(option.flags, option.description);
    if (option.parse) entry.argParser(option.parse);
    if (option.defaultValue !== undefined) entry.default(option.defaultValue);
    command.addOption(entry);
  }
  return command;
}

async function runCommand(spec: CommandSpec, targets: string[], options: Record<string, unknown>): Promise<number> {
  const ui = new Ui({ json: options['json'] === true, quiet: options['quiet'] === true });
  const module = await spec.load();
  return module.run(targets, options, ui);
}

import { createRequire } from 'node:module';
import { Command, Option } from 'commander';
import { commands, type CommandSpec } from './command-table.js';
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
    const command = program
      .command(spec.name)
      .description(spec.summary)
      .addHelpText('after', `\nExamples:\n${spec.examples.map((example) => `  ${example}`).join('\n')}\n\nSee man vipkit-${spec.name}(1).`)
      .exitOverride()
      .action(async (...args: unknown[]) => {
        // commander passes the declared arguments, then the options, then the command.
        const options = args.at(-2) as Record<string, unknown>;
        const targets = spec.arguments ? (args[0] as string[]) : [];
        exitCode = await runCommand(spec, targets, options);
      });
    if (spec.arguments) command.argument(spec.arguments);
    for (const option of spec.options) {
      const entry = new Option(option.flags, option.description);
      if (option.parse) entry.argParser(option.parse);
      if (option.defaultValue !== undefined) entry.default(option.defaultValue);
      command.addOption(entry);
    }
  }

  return {
    parseAsync: (argv) => program.parseAsync(argv),
    get exitCode() {
      return exitCode;
    },
  };
}

async function runCommand(spec: CommandSpec, targets: string[], options: Record<string, unknown>): Promise<number> {
  const ui = new Ui({ json: options['json'] === true, quiet: options['quiet'] === true });
  const module = await spec.load();
  return module.run(targets, options, ui);
}

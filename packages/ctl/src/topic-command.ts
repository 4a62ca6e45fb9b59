/** A topic's own command (`deimosctl member`, `deimosctl cert`): shows the topic's help. */
import { Command } from '@oclif/core';

/** Base of topic index commands: prints the help of the topic and its subcommands. */
export abstract class TopicCommand extends Command {
  async run(): Promise<void> {
    const { Help } = await import('@oclif/core');
    await new Help(this.config).showHelp([this.id ?? '']);
  }
}

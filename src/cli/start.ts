/** `schoolgate start`: migrate, set up the school on first start, and serve. */
import { SYSTEM_ACTOR } from '../auth/auth.context.ts';
import { seedDemoSchool } from '../demo/demo.seed.ts';
import type { Command } from './command.ts';

export const startCommand: Command = {
  name: 'start',
  summary: 'Start Schoolgate (web app and API); sets up the school on first start',
  usage: 'start [--demo]',
  help: [
    'On first start the database is created and migrated, the school is created (or, with',
    '--demo, a demo school with pupils, staff, parents, groups and networks), and a first',
    'admin account is made. Its one-time password is printed once; the admin must change it',
    'and set up two-factor at first sign-in. Later starts keep the data and seed nothing.',
  ].join('\n'),
  options: { demo: { type: 'boolean' } },
  async run(ctx) {
    const app = await ctx.app();
    const config = ctx.config();
    if ((await app.schools.list()).length === 0) {
      const school = ctx.values.demo
        ? await seedDemoSchool(app, { onProgress: (line) => ctx.out(line) })
        : await app.schools.create(SYSTEM_ACTOR, { name: config.school.name, timezone: config.school.timezone });
      const admin = await app.auth.createFirstAdmin(school.id);
      ctx.out('');
      ctx.out(`  School:   ${school.name}`);
      ctx.out(`  Sign in:  ${admin.login}`);
      ctx.out(`  Password: ${admin.password}   (one-time: you will choose your own and set up two-factor)`);
      ctx.out('');
    }
    const address = await app.listen();
    const shown = address.replace('://[::1]', '://localhost');
    ctx.out(`Schoolgate is running at ${config.http.publicUrl ?? shown}`);
    if (app.dns) {
      const dns = app.dns.bound.udp.map((a) => (a.host.includes(':') ? `[${a.host}]:${a.port}` : `${a.host}:${a.port}`)).join(', ');
      ctx.out(`DNS filter answering on ${dns} (UDP and TCP)`);
    }
    const stop = async (signal: string) => {
      app.logger.info({ signal }, 'shutting down');
      await app.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void stop('SIGINT'));
    process.once('SIGTERM', () => void stop('SIGTERM'));
    return 0;
  },
};

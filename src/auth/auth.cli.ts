/** `schoolgate admin create`: an admin (or other role) account from the command line, with a one-time password. */
import type { Command } from '../cli/command.ts';
import { invalid } from '../shared/errors.ts';
import { SYSTEM_ACTOR } from './auth.context.ts';
import { ROLES, type Role } from './permissions.ts';

const adminCreate: Command = {
  name: 'admin create',
  summary: 'Create an account (admin by default) for a staff member, with a one-time password',
  usage: 'admin create --email EMAIL --given NAME --family NAME [--role admin] [--school ID]',
  help: [
    'Finds the staff member by email (or creates them as a staff person) and gives them an',
    'account with the role, signing in with their email. If they already have an account, the',
    'role is added, the account is enabled and unlocked, and a new one-time password is issued:',
    'this is also how to get back in when every admin is locked out.',
    'The one-time password is printed once; it must be changed at first sign-in, and admin,',
    'dsl and head accounts must then set up two-factor.',
    `Roles: ${ROLES.join(', ')}. --school is needed only when the install serves several schools.`,
  ].join('\n'),
  options: {
    email: { type: 'string' },
    given: { type: 'string' },
    family: { type: 'string' },
    role: { type: 'string' },
    school: { type: 'string' },
  },
  async run(ctx) {
    const email = ctx.values.email as string | undefined;
    const given = (ctx.values.given as string | undefined)?.trim();
    const family = (ctx.values.family as string | undefined)?.trim();
    const role = (ctx.values.role as string | undefined) ?? 'admin';
    const issues = [
      ...(email ? [] : [{ where: '--email', message: 'is required' }]),
      ...(given ? [] : [{ where: '--given', message: 'is required (the given name)' }]),
      ...(family ? [] : [{ where: '--family', message: 'is required (the family name)' }]),
      ...((ROLES as readonly string[]).includes(role) ? [] : [{ where: '--role', message: `must be one of ${ROLES.join(', ')}` }]),
    ];
    if (issues.length) throw invalid('Cannot create the account', issues);
    const app = await ctx.app();
    let schoolId = ctx.values.school as string | undefined;
    if (!schoolId) {
      const schools = await app.schools.list();
      if (schools.length > 1) {
        throw invalid('This install serves several schools: say which', [
          { where: '--school', message: `one of ${schools.map((s) => `${s.id} (${s.name})`).join(', ')}` },
        ]);
      }
      const config = ctx.config();
      schoolId = schools[0]?.id ?? (await app.schools.create(SYSTEM_ACTOR, { name: config.school.name, timezone: config.school.timezone })).id;
    }
    const result = await app.auth.createAdmin({ email: email!, givenName: given!, familyName: family!, role: role as Role, schoolId });
    ctx.out(result.personCreated ? `Created staff person ${given} ${family} <${email}>` : `Found ${email} in the school's people`);
    ctx.out(result.accountCreated ? `Created account ${result.login} with role ${role}` : `Account ${result.login} now has role ${role} (enabled, unlocked)`);
    ctx.out(`One-time password: ${result.password}`);
    ctx.out('It must be changed at first sign-in.');
    return 0;
  },
};

/** The auth module's commands. */
export const authCommands: Command[] = [adminCreate];

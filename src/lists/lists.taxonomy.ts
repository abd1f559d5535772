/**
 * The category taxonomy as people read it: a name and a one-line description
 * for every category key the engine knows. The engine itself needs only keys
 * and bits (`src/filter/categories.ts`); screens, block pages and reports use
 * these words. The inappropriate-content categories follow the UK Safer
 * Internet Centre's list; the others are the ones schools also manage.
 */
import { CATEGORY_KEYS, type CategoryKey } from '../filter/categories.ts';

/** The audiences a category has a suggested default for. */
export const AUDIENCES = ['primary', 'secondary', 'staff', 'guests'] as const;
export type Audience = (typeof AUDIENCES)[number];

export interface CategoryInfo {
  key: CategoryKey;
  /** A short name for headings and tables. */
  label: string;
  /** One sentence a head or a pupil can read. */
  description: string;
  /** Unblocking it for anyone needs the DSL's agreement as well as the network manager's decision. */
  safeguarding: boolean;
  /** Whether we suggest blocking it for each audience (a starting point; each school decides). */
  suggestedBlock: Record<Audience, boolean>;
}

const INFO: Record<CategoryKey, Pick<CategoryInfo, 'label' | 'description'>> = {
  illegal: { label: 'Illegal content', description: 'Child sexual abuse material and terrorist content that UK law forbids. Always blocked, for everyone.' },
  pornography: { label: 'Pornography', description: 'Sexually explicit images, video and text.' },
  discrimination: { label: 'Discrimination', description: 'Content that promotes hatred or unfair treatment of people because of who they are.' },
  drugs: { label: 'Drugs', description: 'Selling, promoting or giving instructions for illegal drugs and substance misuse.' },
  extremism: { label: 'Extremism', description: 'Content that promotes terrorism or violent extremist views.' },
  gambling: { label: 'Gambling', description: 'Betting, casinos, lotteries and games played for money.' },
  malware: { label: 'Malware and hacking', description: 'Sites that spread harmful software or teach breaking into systems.' },
  phishing: { label: 'Phishing and scams', description: 'Sites that pretend to be someone else to steal passwords, money or personal details.' },
  piracy: { label: 'Piracy', description: 'Copies of films, music, software and books shared without the owner’s permission.' },
  self_harm: { label: 'Self-harm', description: 'Content that promotes or shows self-harm, suicide or eating disorders.' },
  violence: { label: 'Violence', description: 'Content that promotes or glorifies violence, weapons or cruelty.' },
  social_networks: { label: 'Social networks', description: 'Sites where people share posts, photos and videos with followers.' },
  chat: { label: 'Chat and messaging', description: 'Instant messaging and chat rooms, including chat with strangers.' },
  games: { label: 'Games', description: 'Online games and gaming sites.' },
  dating: { label: 'Dating', description: 'Dating and meeting sites and apps.' },
  streaming: { label: 'Streaming', description: 'Video and music streaming services.' },
  vpn_proxy: { label: 'VPNs and proxies', description: 'Services that hide where traffic goes, often used to get round the school’s filter.' },
  public_dns: { label: 'Public DNS resolvers', description: 'Outside DNS services (including DNS over HTTPS) that a device could use instead of the school’s filter.' },
  ai_chat: { label: 'AI chat', description: 'Chatbots and other generative AI services.' },
  shopping: { label: 'Shopping', description: 'Online shops and auctions.' },
  advertising: { label: 'Advertising and tracking', description: 'Ad networks and trackers that follow people across sites.' },
  adult_themes: { label: 'Adult themes', description: 'Content meant for adults that is not explicit: mature humour, lingerie, tobacco and alcohol sales.' },
  file_sharing: { label: 'File sharing', description: 'Peer-to-peer networks and anonymous file hosting.' },
  remote_access: { label: 'Remote access', description: 'Tools that control another computer over the internet.' },
  custom: { label: 'School’s own list', description: 'Names the school added to its own block lists.' },
};

/** Categories whose unblocking is a safeguarding decision (the UKSIC harms, and dating and adult themes). */
const SAFEGUARDING = new Set<CategoryKey>(['illegal', 'pornography', 'discrimination', 'drugs', 'extremism', 'gambling', 'self_harm', 'violence', 'dating', 'adult_themes']);

/**
 * Suggested blocks per audience, as letters in AUDIENCES order (p s t g):
 * primary pupils are kept to learning sites; secondary pupils get streaming
 * and shopping; staff keep what teaching, research and IT support need;
 * guests get the ordinary web without the harms. Illegal is blocked for all.
 */
const SUGGESTED: Record<CategoryKey, string> = {
  illegal: 'pstg',
  pornography: 'pstg',
  discrimination: 'ps-g',
  drugs: 'ps-g',
  extremism: 'pstg',
  gambling: 'pstg',
  malware: 'pstg',
  phishing: 'pstg',
  piracy: 'pstg',
  self_harm: 'ps-g',
  violence: 'ps-g',
  social_networks: 'ps--',
  chat: 'ps--',
  games: 'ps--',
  dating: 'pstg',
  streaming: 'p---',
  vpn_proxy: 'pstg',
  public_dns: 'pstg',
  ai_chat: 'ps--',
  shopping: 'p---',
  advertising: 'ps--',
  adult_themes: 'ps-g',
  file_sharing: 'pstg',
  remote_access: 'ps-g',
  custom: 'pstg',
};

/** What people read about a category. */
export function categoryInfo(key: CategoryKey): CategoryInfo {
  const letters = SUGGESTED[key];
  const suggestedBlock = Object.fromEntries(AUDIENCES.map((audience, i) => [audience, letters[i] !== '-'])) as Record<Audience, boolean>;
  return { key, ...INFO[key], safeguarding: SAFEGUARDING.has(key), suggestedBlock };
}

/** Every category, in the engine's order. */
export function allCategories(): CategoryInfo[] {
  return CATEGORY_KEYS.map(categoryInfo);
}

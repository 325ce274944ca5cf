/**
 * Runs the Leonardo fake on a loopback port until killed, for trying the CLI by hand:
 *   npx tsx test/fakes/providers/serve-leonardo.ts   → prints LEONARDO_API_URL and LEONARDO_API_KEY
 *   LEONARDO_API_URL=… LEONARDO_API_KEY=… npm run atelier -- imagine "a lighthouse" --provider leonardo --out out
 */
import { LeonardoFake } from './leonardo-fake.ts';

const fake = await new LeonardoFake().start();
console.log(`LEONARDO_API_URL=${fake.baseUrl} LEONARDO_API_KEY=${fake.apiKey}`);
process.on('SIGTERM', () => void fake.close().then(() => process.exit(0)));

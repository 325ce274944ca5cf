import { A1111Fake } from '../fakes/providers/a1111-fake.ts';
import { ComfyFake } from '../fakes/providers/comfyui-fake.ts';
import { HordeFake } from '../fakes/providers/horde-fake.ts';
import { OpenAIFake } from '../fakes/providers/openai-fake.ts';

/**
 * The fakes of the providers added after the seeds (ComfyUI, AUTOMATIC1111, AI Horde, OpenAI) for the
 * contract drivers: every driver starts them beside its platform fake and passes their URLs to the app,
 * so a job on each runs through each platform.
 */
export class SelfHostedFakes {
  readonly comfy = new ComfyFake();
  readonly a1111 = new A1111Fake();
  readonly horde = new HordeFake({ checksToDone: 2 });
  readonly openai = new OpenAIFake({ apiKey: 'sk-contract' });

  async start(): Promise<void> {
    await Promise.all([this.comfy.start(), this.a1111.start(), this.horde.start(), this.openai.start()]);
  }

  env(): Record<string, string> {
    return {
      COMFYUI_URL: this.comfy.url,
      A1111_URL: this.a1111.url,
      AI_HORDE_API_KEY: '0000000000',
      AI_HORDE_URL: this.horde.url,
      OPENAI_API_KEY: 'sk-contract',
      OPENAI_BASE_URL: this.openai.url,
    };
  }

  async close(): Promise<void> {
    await Promise.all([this.comfy.close(), this.a1111.close(), this.horde.close(), this.openai.close()]);
  }
}

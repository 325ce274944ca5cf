export { createLocalProvider, LOCAL_CAPABILITIES, LOCAL_DEFAULTS, pullFor, sizeFor, type LocalProviderOptions } from './local-provider.ts';

// Set by build.mjs: the co-browse recorder's content-hashed file name.
declare const __RECORDER__: string;

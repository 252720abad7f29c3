// @getodk/web-forms ships no type declarations; these are the two
// exports the werkbezoek page uses.
declare module '@getodk/web-forms' {
  import type { Component, Plugin } from 'vue';
  export const OdkWebForm: Component;
  export const webFormsPlugin: Plugin;
}
